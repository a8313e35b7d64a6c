"""The code version names the commit and, for a dirty tree, a hash of its changes to src/."""

import subprocess
from pathlib import Path

from tradeloop import __version__
from tradeloop.engine.runner import code_version_of


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _checkout(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n")
    (root / "README").write_text("readme\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    return root, _git(root, "rev-parse", "--short=12", "HEAD")


def test_a_clean_checkout_is_the_version_and_commit(tmp_path: Path) -> None:
    root, sha = _checkout(tmp_path)
    assert code_version_of(root) == f"{__version__}+g{sha}"
    (root / "README").write_text("changed outside src\n")
    assert code_version_of(root) == f"{__version__}+g{sha}"


def test_differently_edited_trees_of_one_commit_have_different_versions(tmp_path: Path) -> None:
    root, sha = _checkout(tmp_path)
    (root / "src" / "a.py").write_text("x = 2\n")
    first = code_version_of(root)
    (root / "src" / "a.py").write_text("x = 3\n")
    second = code_version_of(root)
    assert first.startswith(f"{__version__}+g{sha}.dirty.")
    assert second.startswith(f"{__version__}+g{sha}.dirty.")
    assert len(first.rpartition(".")[2]) == 12
    assert first != second
    (root / "src" / "a.py").write_text("x = 2\n")
    assert code_version_of(root) == first  # the same edits give the same version


def test_an_untracked_source_file_changes_the_version(tmp_path: Path) -> None:
    root, sha = _checkout(tmp_path)
    (root / "src" / "b.py").write_text("y = 1\n")
    first = code_version_of(root)
    assert first.startswith(f"{__version__}+g{sha}.dirty.")
    (root / "src" / "b.py").write_text("y = 2\n")
    assert code_version_of(root) != first


def test_outside_a_checkout_the_version_is_the_package_version(tmp_path: Path) -> None:
    assert code_version_of(tmp_path) == __version__
