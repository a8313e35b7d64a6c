"""``tradeloop features materialize`` and ``tradeloop models train | list | promote``.

Both read the run config's market data exactly as a backtest reads it
(``engine.loading.load_market_data``), so the features a model is trained on are the ones the
run computes online. The store (materialized features and the model registry) is the
``[features] store`` directory, relative to the working directory as ``runs/`` is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tradeloop.cli._common import out, print_table, user_errors

features_app = typer.Typer(
    help="The feature store: materialize declared features.", no_args_is_help=True
)
models_app = typer.Typer(help="The model registry: train, list, promote.", no_args_is_help=True)

ConfigArgument = Annotated[Path, typer.Argument(help="Run config (TOML) with [features].")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
StoreOption = Annotated[
    Path, typer.Option("--store", help="The store directory (the config's [features] store).")
]


def _inputs(config_path: Path) -> dict[str, Any]:
    # The config, its feature set, each instrument's bars and the external series.
    from tradeloop.config.loader import load_config
    from tradeloop.core.errors import ConfigError
    from tradeloop.data.columns import BarColumns
    from tradeloop.engine.loading import load_market_data
    from tradeloop.features import bar_arrays, load_external

    config = load_config(config_path)
    if config.features is None:
        raise ConfigError(f"{config_path}: no [features] table: nothing to materialize or train on")
    base = config_path.parent
    _, sources = load_market_data(config, base)
    bars: dict[str, Any] = {}
    for source in sources:
        if not isinstance(source.columns, BarColumns):
            continue
        instrument_id = source.columns.instrument_id
        if instrument_id in bars:
            raise ConfigError(
                f"{instrument_id} has bars from two [[data]] entries; features need one series "
                "per instrument"
            )
        bars[instrument_id] = (bar_arrays(source.columns), source.content_hash)
    if not bars:
        raise ConfigError(f"{config_path}: no bars to compute features on")
    externals = {spec.name: load_external(spec, base) for spec in config.features.external}
    micro = _micro_inputs(config.features.micro_data, sources, bars)
    return {
        "config": config,
        "features": config.features,
        "bars": bars,
        "externals": externals,
        "micro": micro,
    }


def _micro_inputs(kinds: tuple[str, ...], sources: list[Any], bars: dict[str, Any]) -> Any:
    # Each instrument's quotes, trades and book deltas when the features read them; the
    # instrument's data hash then covers them too (bars' hash first, then each kind's).
    import hashlib

    from tradeloop.core.errors import ConfigError
    from tradeloop.data.columns import QuoteColumns, TradeColumns
    from tradeloop.features import MicroData

    if not kinds:
        return None
    found: dict[str, dict[str, Any]] = {}
    for source in sources:
        columns = source.columns
        kind = (
            "quotes"
            if isinstance(columns, QuoteColumns)
            else "trades"
            if isinstance(columns, TradeColumns)
            else "book"
            if type(columns).__name__ == "BookDeltaColumns"
            else "bars"
        )
        if kind not in kinds:
            continue
        per_instrument = found.setdefault(source.columns.instrument_id, {})
        if kind in per_instrument:
            raise ConfigError(
                f"{source.columns.instrument_id} has {kind} from two [[data]] entries; "
                "features need one series of each kind per instrument"
            )
        per_instrument[kind] = source
    micro = {}
    for instrument_id, (arrays, digest) in list(bars.items()):
        chosen = found.get(instrument_id, {})
        micro[instrument_id] = MicroData(
            **{kind: source.columns for kind, source in chosen.items()}
        )
        parts = [digest, *(f"{k}:{chosen[k].content_hash}" for k in sorted(chosen))]
        bars[instrument_id] = (arrays, hashlib.sha256("|".join(parts).encode()).hexdigest())
    return micro


@features_app.command("materialize")
def materialize_command(config: ConfigArgument, as_json: JsonOption = False) -> None:
    """Compute the [features] of every instrument with bars (and the label) and write them
    to the store as Parquet, stamped with the definition and data hashes."""
    from tradeloop.features import materialize

    with user_errors():
        inputs = _inputs(config)
        features = inputs["features"]
        files = materialize(
            features, Path(features.store), inputs["bars"], inputs["externals"], inputs["micro"]
        )
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "feature_set": features.name,
                    "definition_hash": features.definition_hash(),
                    "features": features.feature_names,
                    "files": [
                        {
                            "instrument_id": f.instrument_id,
                            "path": f.path,
                            "rows": f.rows,
                            "data_hash": f.data_hash,
                            "content_hash": f.content_hash,
                            "is_new": f.is_new,
                        }
                        for f in files
                    ],
                }
            )
        )
        return
    print_table(
        f"feature set {features.name} ({len(features.feature_names)} features, definitions "
        f"{features.definition_hash()[:16]})",
        [("instrument", "left"), ("rows", "right"), ("file", "left"), ("", "left")],
        [
            [
                f.instrument_id,
                f"{f.rows:,}",
                Path(f.path).name,
                "written" if f.is_new else "unchanged",
            ]
            for f in files
        ],
        caption=f"in {Path(files[0].path).parent}" if files else None,
    )


@models_app.command("train")
def train_command(config: ConfigArgument, as_json: JsonOption = False) -> None:
    """Train every [[models]] entry on the materialized features (materializing what is
    missing), cross-validate it (purged, embargoed) and register it in staging; an entry of
    kind rl trains a policy on the config's RL environment (needs the rl extra)."""
    from tradeloop.config.schema import config_hash
    from tradeloop.core.errors import ConfigError
    from tradeloop.engine.runner import code_version
    from tradeloop.features import materialize, read_features
    from tradeloop.features.store import data_hash
    from tradeloop.models.registry import ModelRegistry
    from tradeloop.models.train import train_model

    cards = []
    with user_errors():
        inputs = _inputs(config)
        run_config, features = inputs["config"], inputs["features"]
        if not run_config.models:
            raise ConfigError(f"{config}: no [[models]] table: nothing to train")
        store = Path(features.store)
        supervised = [spec for spec in run_config.models if spec.kind != "rl"]
        if supervised:
            materialize(features, store, inputs["bars"], inputs["externals"], inputs["micro"])
        registry = ModelRegistry(store)
        for spec in run_config.models:
            if spec.kind == "rl":  # a policy trained on the config's RL environment
                from tradeloop.rl.register import train_spec

                cards.append(train_spec(config, spec, store)[0])
                continue
            chosen = spec.instruments or sorted(inputs["bars"])
            unknown = [i for i in chosen if i not in inputs["bars"]]
            if unknown:
                raise ConfigError(f"model {spec.name}: no bars for {', '.join(unknown)}")
            hashes = {i: data_hash(inputs["bars"][i][1], inputs["bars"][i][0]) for i in chosen}
            tables = {i: read_features(features, store, i, hashes[i]) for i in chosen}
            cards.append(
                train_model(
                    spec,
                    features,
                    tables,
                    hashes,
                    registry,
                    config_hash=config_hash(run_config),
                    code_version=code_version(),
                )
            )
    if as_json:
        import msgspec

        out.print_json(msgspec.json.encode([_card_summary(c, "staging") for c in cards]).decode())
        return
    _print_cards([(c, "staging") for c in cards], "registered")


def _card_summary(card: Any, stage: str) -> dict[str, Any]:
    from tradeloop.core.time import ns_to_iso

    return {
        "name": card.name,
        "version": card.version,
        "stage": stage,
        "kind": card.kind,
        "feature_set": card.feature_set,
        "feature_hash": card.feature_hash,
        "artifact_hash": card.artifact_hash,
        "fit_start": ns_to_iso(card.fit_start_ns),
        "fit_end": ns_to_iso(card.fit_end_ns),
        "rows": card.rows,
        "metrics": card.metrics,
    }


def _print_cards(cards: list[tuple[Any, str]], title: str) -> None:
    rows = []
    for card, stage in cards:
        s = _card_summary(card, stage)
        m = card.metrics
        rows.append(
            [
                card.name,
                str(card.version),
                stage,
                card.kind,
                f"{s['fit_start'][:10]} → {s['fit_end'][:10]}",
                f"{card.rows:,}",
                f"{m['cv_ic']:+.3f}" if "cv_ic" in m else "-",
                f"{m['cv_hit_rate']:.1%}" if "cv_hit_rate" in m else "-",
                f"{m['last_episode_reward']:+.3f}" if "last_episode_reward" in m else "-",
                card.feature_hash[:12],
                card.artifact_hash[:12],
            ]
        )
    print_table(
        title,
        [
            ("model", "left"),
            ("version", "right"),
            ("stage", "left"),
            ("kind", "left"),
            ("window", "left"),
            ("rows", "right"),
            ("cv IC", "right"),
            ("cv hit", "right"),
            ("last episode", "right"),
            ("features", "left"),
            ("artifact", "left"),
        ],
        rows,
        drop_order=("artifact", "features", "last episode", "window"),
    )


@models_app.command("list")
def list_command(store: StoreOption = Path("store"), as_json: JsonOption = False) -> None:
    """List every registered model version with its stage, window and metrics."""
    from tradeloop.models.registry import ModelRegistry

    with user_errors():
        registry = ModelRegistry(store)
        cards = [
            (registry.card(name, version), registry.stage_of(name, version))
            for name in registry.names()
            for version in registry.versions(name)
        ]
    if as_json:
        out.print_json(json.dumps([_card_summary(c, s) for c, s in cards]))
        return
    if not cards:
        out.print(f"no models registered under {store}")
        return
    _print_cards(cards, f"models in {store}")


@models_app.command("promote")
def promote_command(
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    stage: Annotated[str, typer.Option("--stage", help="staging or production.")] = "production",
    store: StoreOption = Path("store"),
) -> None:
    """Move a model version to production (or staging); the previous holder is archived."""
    from tradeloop.models.registry import ModelRegistry

    with user_errors():
        registry = ModelRegistry(store)
        before = registry.stages(name).get(stage)
        registry.promote(name, version, stage)
    note = f" (was v{before})" if before is not None and before != version else ""
    out.print(f"{name} v{version} is now in {stage}{note}")


def bench_models_command(
    instruments: Annotated[int, typer.Option(help="Instruments updated each step.")] = 100,
    bars: Annotated[int, typer.Option(help="Bars per instrument.")] = 1_000,
    decisions: Annotated[int, typer.Option(help="Single-row inferences timed.")] = 2_000,
    micro_file: Annotated[
        Path | None,
        typer.Option(
            "--micro-file",
            help="A Binance diff-depth recording for the microstructure features (default: "
            "the repository's spot test file).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Time online features (100 instruments × 50 features), materialization, model
    inference (500-tree LightGBM, one row) p50/p99 and the microstructure features."""
    from tradeloop.bench.models import bench_models
    from tradeloop.cli._common import check_number
    from tradeloop.core.paths import require_file

    with user_errors():
        check_number("--instruments", instruments, minimum=1, maximum=1_000)
        check_number("--bars", bars, minimum=200, maximum=5_000)
        check_number("--decisions", decisions, minimum=100, maximum=100_000)
        if micro_file is None:
            default = Path(__file__).resolve().parents[3] / _MICRO_FILE
            micro_file = default if default.is_file() else None
        else:
            require_file(micro_file, "micro recording")
    result = bench_models(instruments, bars, decisions, micro_file)
    if as_json:
        print(json.dumps(result))
        return
    online, made, inference = result["online"], result["materialization"], result["inference"]
    print_table(
        f"bench models: {instruments} instruments × {result['features']} features",
        [("measure", "left"), ("value", "right")],
        [
            ["online: µs per instrument-bar", f"{online['us_per_instrument_bar']:,.1f}"],
            ["online: ms per step (all instruments)", f"{online['ms_per_step']:,.2f}"],
            ["materialization: rows/s", f"{made['rows_per_s']:,}"],
            ["materialization: feature values/s", f"{made['feature_values_per_s']:,}"],
            *[
                [
                    f"{name}: p50 / p99 µs",
                    f"{inference[name]['p50_us']:,.1f} / {inference[name]['p99_us']:,.1f}",
                ]
                for name in ("lgbm_predict", "lgbm_predict_and_shap", "linear", "rl_policy")
            ],
            ["drift: ns per bar (live window append)", f"{result['drift']['append_ns_per_bar']}"],
            [
                f"drift: ms per PSI+KS of {result['drift']['series']} series",
                f"{result['drift']['ms_per_computation']:,.2f}",
            ],
        ],
        caption=f"LightGBM: {inference['trees']} trees on {inference['train_rows']:,} rows; "
        f"peak RSS {result['peak_rss_mb']:.0f} MB",
    )
    micro = result["micro"]
    if "online" in micro:
        fast = micro["online"]
        print_table(
            f"bench models: {micro['features']} microstructure features ({micro['file']}, "
            f"{micro['bars']} bars of {micro['bar_seconds']} s)",
            [("measure", "left"), ("value", "right")],
            [
                ["online: ns per book event", f"{fast['ns_per_book_event']:,.0f}"],
                ["online: ns per quote", f"{fast['ns_per_quote']:,.0f}"],
                ["online: ns per trade", f"{fast['ns_per_trade']:,.0f}"],
                ["online: µs per bar", f"{fast['us_per_bar']:,.1f}"],
                ["bulk: events/s", f"{micro['bulk']['events_per_s']:,}"],
            ],
        )


_MICRO_FILE = "tests/data/books/binance-spot-btcusdt-20240808-head.gz"

BENCH_SUITE = [("models", ["bench", "models", "--json"])]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``features`` and ``models`` to the ``tradeloop`` app and ``models`` to ``bench``."""
    app.add_typer(features_app, name="features")
    app.add_typer(models_app, name="models")
    bench_app.command("models")(bench_models_command)
