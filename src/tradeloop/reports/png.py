"""PNG export of the report's figures through headless Chromium (no kaleido, no download).

plotly's own exporter (kaleido) drives a Chrome of its own; this one drives Debian's
``chromium`` (``scripts/ensure-chromium.sh`` installs it) directly:

1. write a page that holds plotly's JavaScript and every figure's JSON, and that renders each
   figure and turns it into a PNG data URL with ``Plotly.toImage`` (the same renderer the
   interactive report uses), writing the URLs into the page;
2. load it with ``chromium --headless --dump-dom --virtual-time-budget=…`` (the budget lets the
   asynchronous rendering finish before the DOM is dumped) and a fresh profile directory;
3. decode each data URL into ``<name>.png``.

The Chromium executable is ``$TRADELOOP_CHROMIUM``, else ``chromium`` on the ``PATH``, else
``/usr/bin/chromium``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tradeloop.core.errors import ConfigError

CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Flags every headless Chromium launch uses (no network, no sandbox for root in containers)."""

_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script>{plotly}</script></head>
<body><div id="out"></div><script>
const figures = {figures};
(async () => {{
  const out = document.getElementById('out');
  for (const [name, figure] of Object.entries(figures)) {{
    const div = document.createElement('div');
    document.body.appendChild(div);
    const layout = Object.assign({{}}, figure.layout, {{width: {width}}});
    await Plotly.newPlot(div, figure.data, layout, {{staticPlot: true}});
    const height = layout.height || 450;
    const url = await Plotly.toImage(div, {{format: 'png', width: {width}, height: height,
                                          scale: {scale}}});
    const pre = document.createElement('pre');
    pre.dataset.name = name;
    pre.textContent = url;
    out.appendChild(pre);
  }}
  document.title = 'rendered';
}})().catch(error => {{ document.title = 'failed: ' + error; }});
</script></body></html>
"""


def chromium_path() -> str:
    """Return the Chromium executable to use.

    Raises
    ------
    ConfigError
        If none is installed (run ``scripts/ensure-chromium.sh``).
    """
    configured = os.environ.get("TRADELOOP_CHROMIUM")
    for candidate in (configured, shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigError(
        "PNG export needs Chromium: run scripts/ensure-chromium.sh (Debian package chromium) "
        "or set TRADELOOP_CHROMIUM"
    )


def export_png(
    figures: dict[str, Any], out_dir: Path, width: int = 1200, scale: float = 1.0
) -> list[Path]:
    """Render each plotly figure to ``out_dir/<name>.png`` with headless Chromium.

    Raises
    ------
    ConfigError
        If Chromium is missing, fails, or a figure did not render.
    """
    import plotly.offline

    executable = chromium_path()
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = {name: json.loads(fig.to_json()) for name, fig in figures.items()}
    with tempfile.TemporaryDirectory(prefix="tradeloop-png-") as scratch:
        page = Path(scratch) / "figures.html"
        page.write_text(
            _PAGE.format(
                plotly=plotly.offline.get_plotlyjs(),
                figures=json.dumps(specs).replace("</", "<\\/"),
                width=width,
                scale=scale,
            )
        )
        command = [
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(scratch) / 'profile'}",
            "--virtual-time-budget=60000",
            "--dump-dom",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ConfigError(
                f"Chromium ({executable}) did not render the figures: {error}"
            ) from None
    dom = done.stdout
    title = re.search(r"<title>(rendered|failed: [^<]*)</title>", dom)
    if title is None or title.group(1) != "rendered":
        lines = done.stderr.strip().splitlines() or ["no output"]
        reason = title.group(1) if title else f"the page did not finish ({lines[-1]})"
        raise ConfigError(f"Chromium ({executable}) did not render the figures: {reason}")
    written = []
    for name, data in re.findall(
        r'<pre data-name="([^"]+)">data:image/png;base64,([A-Za-z0-9+/=]+)</pre>', dom
    ):
        path = out_dir / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        written.append(path)
    missing = sorted(set(figures) - {p.stem for p in written})
    if missing:
        raise ConfigError(f"Chromium rendered no PNG for figure(s) {', '.join(missing)}")
    return written
