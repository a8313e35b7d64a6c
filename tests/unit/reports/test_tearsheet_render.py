"""The HTML report renders in headless Chromium: every figure drawn, no JavaScript error,
trade links open their explain section; PNG export writes every figure."""

from pathlib import Path

from tradeloop.reports.analysis import analyze
from tradeloop.reports.png import export_png
from tradeloop.reports.run import RunInputs
from tradeloop.reports.tearsheet import FIGURES, anchor, build_report, figures

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_renders_every_figure_in_headless_chromium_without_errors(
    pipeline_run,
    chromium: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import sync_playwright

    inputs = RunInputs(pipeline_run.run_dir, base_dir=DATA)
    files, _ = build_report(inputs, tmp_path / "report")
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=[*FLAGS, "--headless"]
        )
        try:
            page = browser.new_context().new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(Path(files.html).as_uri(), wait_until="load")
            page.wait_for_function(
                f"document.querySelectorAll('.figure .main-svg').length >= {len(FIGURES)}"
            )
            for name, _ in FIGURES:
                plot = page.locator(f'[data-figure="{name}"] .js-plotly-plot')
                assert plot.count() == 1, name
                assert plot.locator(".main-svg").count() >= 1, name
                box = plot.bounding_box()
                assert box is not None, name
                assert box["width"] > 300, name
                assert box["height"] > 200, name
            # Traces were drawn: equity lines and trade markers exist as SVG paths.
            assert page.locator('[data-figure="equity"] .scatterlayer .trace').count() >= 3
            assert page.locator('[data-figure="trades"] .scatterlayer .point').count() > 10
            # A trade link opens its explain section.
            key = next(iter(inputs.pnl))
            page.click(f'a[href="#{anchor(key)}"]')
            page.wait_for_function(f"document.getElementById('{anchor(key)}').open === true")
            assert "P&L decomposition" in page.inner_text(f'[id="{anchor(key)}"]')
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests


def test_png_export_writes_one_png_per_figure(pipeline_run, chromium: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    os.environ.setdefault("TRADELOOP_CHROMIUM", chromium)
    inputs = RunInputs(pipeline_run.run_dir, base_dir=DATA)
    written = export_png(figures(inputs, analyze(inputs)), tmp_path / "png")
    assert sorted(p.stem for p in written) == sorted(name for name, _ in FIGURES)
    for path in written:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", path
        assert len(data) > 10_000, path
