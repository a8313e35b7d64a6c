"""Loading the classes a config names: by file next to the config, or by allowed module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.core.plugins import load_class


class Base:
    pass


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _load(class_path: str, base_dir: Path | None, allowed: tuple[str, ...] = ()) -> type[Base]:
    return load_class(
        class_path, Base, kind="agent", allowed=allowed, allow_hint="allow_x", base_dir=base_dir
    )


def test_a_file_path_resolves_against_the_base_directory_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "conf" / "mine" / "agents.py",
        f"from {__name__} import Base\n\n\nclass Mine(Base):\n    answer = 42\n",
    )
    monkeypatch.chdir(tmp_path)  # a relative path must not resolve here
    cls = _load("mine/agents.py:Mine", tmp_path / "conf")
    assert issubclass(cls, Base)
    assert cls.answer == 42  # type: ignore[attr-defined]
    assert cls.__module__.startswith("tradeloop_user_agents_")


def test_the_same_file_gets_the_same_module_name_each_time(tmp_path: Path) -> None:
    _write(tmp_path / "a.py", f"from {__name__} import Base\n\n\nclass A(Base):\n    pass\n")
    assert _load("a.py:A", tmp_path).__module__ == _load("a.py:A", tmp_path).__module__


def test_an_absolute_file_path_needs_no_base_directory(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.py", f"from {__name__} import Base\n\n\nclass A(Base):\n    pass\n")
    assert _load(f"{path}:A", None).__name__ == "A"


def test_a_relative_file_path_without_a_base_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"agent file a\.py is relative and no config directory"):
        _load("a.py:A", None)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        _load("nope.py:A", tmp_path)
    assert str(error.value) == f"agent file {tmp_path / 'nope.py'} does not exist"


def test_a_missing_class_in_a_file_is_named(tmp_path: Path) -> None:
    _write(tmp_path / "a.py", "X = 1\n")
    with pytest.raises(ConfigError) as error:
        _load("a.py:Nope", tmp_path)
    assert str(error.value) == f"agent file {tmp_path / 'a.py'} has no class Nope"


def test_a_class_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a.py", "class NotAnAgent:\n    pass\n\nVALUE = 3\n")
    with pytest.raises(ConfigError, match=r"^agent a\.py:NotAnAgent is not a Base subclass$"):
        _load("a.py:NotAnAgent", tmp_path)
    with pytest.raises(ConfigError, match=r"^agent a\.py:VALUE is not a Base subclass$"):
        _load("a.py:VALUE", tmp_path)


def test_a_file_that_fails_to_import_names_the_error(tmp_path: Path) -> None:
    _write(tmp_path / "a.py", "raise RuntimeError('broken at import')\n")
    with pytest.raises(ConfigError, match="failed to import: RuntimeError: broken at import"):
        _load("a.py:A", tmp_path)


def test_a_module_outside_the_allow_list_is_refused_before_it_is_imported() -> None:
    with pytest.raises(ConfigError) as error:
        _load("os.path:join", None)
    assert (
        str(error.value) == "agent module os.path is not allowed; add 'os' to allow_x to import it"
    )


def test_a_module_that_is_not_importable_suggests_naming_its_file() -> None:
    with pytest.raises(ConfigError) as error:
        _load("my_agents:Overnight", None, allowed=("my_agents",))
    assert str(error.value) == (
        "agent module my_agents cannot be imported: No module named 'my_agents' (a module must "
        "be installed or on the Python path; for a file next to the config write "
        "my_agents.py:Overnight)"
    )


def test_an_allowed_module_loads_and_tradeloop_is_always_allowed() -> None:
    assert _load(f"{__name__}:Base", None, allowed=("tests",)) is Base
    with pytest.raises(ConfigError, match="has no class Nope"):
        _load("tradeloop.core.plugins:Nope", None)


def test_a_malformed_class_path_is_a_config_error() -> None:
    for bad in ("a.py", ":A", "a.py:"):
        with pytest.raises(ConfigError, match="is not of the form module:Class"):
            _load(bad, None)
