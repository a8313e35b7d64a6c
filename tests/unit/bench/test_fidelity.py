"""The fidelity benchmark: every level runs the same job; level 4 replays a real book."""

from pathlib import Path

from tradeloop.bench.fidelity import LEVEL_CONFIGS, bench_fidelity

BOOK = Path(__file__).parents[2] / "data" / "books" / "binance-usdm-btcusdt-20240808-head.gz"
L3 = (
    Path(__file__).parents[2]
    / "data"
    / "books"
    / "esm4-glbx-mdp3-20240508T000000-000002.mbo.csv.gz"
)


def test_fidelity_bench_runs_every_level_and_the_real_book() -> None:
    result = bench_fidelity(5_000, BOOK, l3_file=L3)
    canonical = result["canonical"]
    assert list(canonical) == list(LEVEL_CONFIGS)
    assert {entry["bars"] for entry in canonical.values()} == {5_000}
    assert canonical["level1"]["overhead_pct"] == 0.0
    level1, impact = canonical["level1"], canonical["level1+impact"]
    assert impact["trades"] == level1["trades"]  # impact moves prices, not decisions
    assert impact["final_equity"] < level1["final_equity"]
    linear = canonical["level1+linear_impact"]
    assert linear["trades"] == level1["trades"]
    assert linear["final_equity"] < level1["final_equity"]
    real = result["real"]
    assert real["file"] == BOOK.name
    assert real["level4"]["deltas"] == 49_069
    assert real["level2"]["fills"] > 0
    assert real["level4"]["fills"] > 0
    assert real["level2"]["orders"] == real["level4"]["orders"]
    l3 = result["l3"]
    assert (l3["file"], l3["deltas"]) == (L3.name, 13_796)
    assert l3["orders"] > 0
    assert l3["fills"] > 0
