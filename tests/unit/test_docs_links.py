"""README.md and docs/*.md stand on their own: every file they cite is in the repository.

A clone has nothing beside it: a relative link (``[text](path)``) or a repository path in
code (``docs/x.md``, ``src/...``, ``bench/peers/run.sh``) must name a file or folder of this
repository, never one outside it (``../shared/...``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP_LEVEL = {path.name for path in ROOT.iterdir() if not path.name.startswith(".")}

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"`([^`\s]+)`")
PATTERN_CHARACTERS = set("<>*|…{}$")


def _inside(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT)


def references(page: Path) -> list[tuple[str, Path]]:
    """Return the (text, resolved path) of each relative file reference of ``page``."""
    text = page.read_text()
    found: list[tuple[str, Path]] = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (https:, mailto:) or an anchor of the page itself
        found.append((target, (page.parent / target.split("#", 1)[0]).resolve()))
    for span in CODE.findall(text):
        if "/" not in span or PATTERN_CHARACTERS & set(span) or span.startswith(("/", "~")):
            continue
        if span.startswith("../") or "shared/" in span:
            found.append((span, (page.parent / span).resolve()))
        elif span.split("/", 1)[0] in TOP_LEVEL:
            found.append((span, (ROOT / span).resolve()))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_file_reference_resolves_inside_the_repository(page: Path) -> None:
    broken = [text for text, path in references(page) if not (_inside(path) and path.exists())]
    assert broken == [], f"{page.relative_to(ROOT)} cites files a clone does not have: {broken}"


def test_the_checker_catches_a_reference_outside_the_repository(tmp_path: Path) -> None:
    page = ROOT / "docs" / "example.md"
    text = "See [the job](../../shared/bench/JOB.md), `../shared/STYLE.md` and `docs/nope.md`."
    fake = tmp_path / "page.md"
    fake.write_text(text)
    found = {ref for ref, _ in references(fake)}
    assert found == {"../../shared/bench/JOB.md", "../shared/STYLE.md", "docs/nope.md"}
    assert not page.exists()


def test_the_docs_cite_the_architecture_and_the_benchmark_job() -> None:
    readme = {path for _, path in references(ROOT / "README.md")}
    assert (ROOT / "docs" / "architecture.md") in readme
    assert (ROOT / "docs" / "benchmark-job.md") in readme
