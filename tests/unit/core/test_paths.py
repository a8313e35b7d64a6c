"""Path checks say what is wrong with a path: a directory, a file, or nothing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.core.paths import (
    require_dir,
    require_file,
    require_output_dir,
    require_output_file,
)


def test_require_file_names_a_directory_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        require_file(tmp_path, "config file")
    assert str(error.value) == f"config file {tmp_path} is a directory, not a file"


def test_require_file_of_a_missing_path_says_it_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        require_file(tmp_path / "nope.toml", "config file")
    assert str(error.value) == f"config file {tmp_path / 'nope.toml'} does not exist"


def test_require_file_returns_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    assert require_file(str(tmp_path / "a.csv"), "data file") == tmp_path / "a.csv"


def test_require_dir_names_a_file_a_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    with pytest.raises(ConfigError) as error:
        require_dir(tmp_path / "a.csv", "catalog")
    assert str(error.value) == f"catalog {tmp_path / 'a.csv'} is a file, not a directory"
    with pytest.raises(ConfigError, match="does not exist"):
        require_dir(tmp_path / "nope", "catalog")
    assert require_dir(tmp_path, "catalog") == tmp_path


def test_output_paths_refuse_a_directory_for_a_file_and_a_file_for_a_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.csv").write_text("x\n")
    with pytest.raises(ConfigError) as error:
        require_output_file(tmp_path, "--jsonl file")
    assert str(error.value) == f"--jsonl file {tmp_path} is a directory; give a file path"
    with pytest.raises(ConfigError, match=r"a\.csv is a file, not a directory"):
        require_output_file(tmp_path / "a.csv" / "out.jsonl", "--jsonl file")
    with pytest.raises(ConfigError, match=r"a\.csv is a file, not a directory"):
        require_output_dir(tmp_path / "a.csv" / "sub", "--out directory")
    assert require_output_dir(tmp_path / "new" / "sub", "--out directory") == (
        tmp_path / "new" / "sub"
    )
