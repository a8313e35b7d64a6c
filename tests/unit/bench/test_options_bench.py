"""The options benchmark returns the keys the issue names (figures are for `make bench`)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tradeloop.bench.options import bench_options
from tradeloop.cli.main import BENCH_SUITE, app

KEYS = (
    "european_price_greeks_per_s",
    "implied_vol_per_s",
    "implied_vol_max_rel_error",
    "american_baw_per_s",
    "surface_fit_ms",
    "quantlib_price_per_s",
    "quantlib_implied_vol_per_s",
    "vollib_implied_vol_per_s",
)


def test_bench_options_reports_every_key_and_exact_implied_vols() -> None:
    result = bench_options(2_000, repeat=1, peer_n=20)
    for key in KEYS:
        assert key in result, key
        assert result[key] is not None, key
        assert result[key] >= 0 if key == "implied_vol_max_rel_error" else result[key] > 0, key
    assert result["implied_vol_max_rel_error"] <= 1e-12
    assert result["implied_vol_failed"] == 0
    assert result["records"] == 2_000


def test_bench_options_cli_prints_one_json_line_and_is_in_bench_all() -> None:
    outcome = CliRunner().invoke(
        app, ["bench", "options", "--json", "--contracts", "500", "--peer-contracts", "10",
              "--repeat", "1"]
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    lines = [line for line in outcome.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    assert set(KEYS) <= set(json.loads(lines[0]))
    assert ("options", ["bench", "options", "--json"]) in BENCH_SUITE


def test_bench_options_cli_rejects_a_tiny_job() -> None:
    outcome = CliRunner().invoke(app, ["bench", "options", "--contracts", "10"])
    assert outcome.exit_code == 2
