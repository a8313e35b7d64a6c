"""The public API of ``tradeloop.analytics.metrics`` and what the library may import."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import tradeloop.analytics
import tradeloop.analytics.metrics as metrics

PACKAGE_DIR = Path(metrics.__file__).parent
TEST_ONLY_REFERENCES = {"empyrical", "quantstats", "pyfolio"}


def public_names(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }


def test_metrics_all_lists_exactly_the_public_names():
    assert set(metrics.__all__) == public_names(metrics)
    assert len(metrics.__all__) == len(set(metrics.__all__))


def test_analytics_reexports_every_metric():
    for name in metrics.__all__:
        assert name in tradeloop.analytics.__all__
        assert getattr(tradeloop.analytics, name) is getattr(metrics, name)


def test_every_public_function_documents_its_errors_and_names_its_reference_or_rule():
    for name in metrics.__all__:
        value = getattr(metrics, name)
        doc = inspect.getdoc(value)
        assert doc, name
        if inspect.isfunction(value):
            assert "Raises" in doc, name


def test_library_code_never_imports_the_reference_libraries():
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & TEST_ONLY_REFERENCES, f"{path.name} imports {roots}"
