"""Model signal agents: a registered model (LightGBM or the linear baseline) scoring the
universe from online features, with a safe fallback whenever it cannot decide.

Startup (``check_run``, before anything runs; each problem is one ``ConfigError``):

1. The run must have a ``[features]`` set; the model (name and version: a number,
   ``latest``, ``staging`` or ``production``) must be in the registry under its store.
2. The artifact's SHA-256 must be the one registered.
3. Every feature the model was trained on must be in the run's feature set, and the set's
   definition hash must be the one the model was trained on.

In the loop, ``on_bar`` updates the online features of every bar (the same computation as
materialization, bit for bit), after ``on_quote``, ``on_trade`` and ``on_book`` took the
instrument's events up to it when the features read them (``market_data``); at a rebalance
``score_all`` predicts each instrument from its latest row and turns the prediction into a
score, ``tanh(prediction / label_scale)`` (the label's standard deviation in the training
window). A missing feature (no finite value), an error, a timeout (``timeout_ms``, off by
default: a timeout makes a run depend on the machine's speed) or a prediction that is not
finite gives no signal for the instrument and a ``ModelFallback`` naming the safe position
(``flat``, ``hold`` or ``reduce`` by ``reduce_fraction``), which the target stage applies.
Every prediction is journaled as ``ModelPredicted`` with the model, its version and hashes
and each feature's contribution.

Walk-forward (``refit_every`` rebalances, over the last ``refit_window_bars`` bars or all
seen): ``fit(fit_start_ns, fit_end_ns)`` refits the registered kind with its parameters on
the rows seen in the window whose label ended by ``fit_end_ns`` — the regime detector's
contract — and journals ``ModelFitted``; predictions then carry ``<version>+wf<n>``.

Drift: the registered version's ``DriftReference`` (its training window's distributions) is
loaded with it. Once monitoring asks for it (``keep_drift_window``), every bar's feature row
and every prediction is also appended to a bounded deque, which monitoring reads on the
kernel thread on its own schedule (``drift_window``); nothing is kept otherwise.
"""

from __future__ import annotations

import concurrent.futures
import math
from collections import deque
from pathlib import Path
from typing import Any, ClassVar, Final

import numpy as np

from tradeloop.agents.base import AgentContext, SignalAgent
from tradeloop.analytics.history import BarHistory
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.features.definitions import FeatureSetConfig
from tradeloop.features.external import load_external
from tradeloop.features.frame import OnlineFeatures
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.decisions import (
    FeatureContribution,
    ModelFallback,
    ModelFitted,
    ModelPredicted,
    Signal,
)
from tradeloop.model.events import Event
from tradeloop.models.estimators import LightGBMModel, LinearModel, load_estimator
from tradeloop.models.registry import DriftReference, ModelCard, ModelRegistry

FALLBACKS: Final = ("flat", "hold", "reduce")


class ModelAgent(SignalAgent):
    """A registered model as a signal agent (see the module docstring)."""

    version = "1"
    kind: ClassVar[str] = ""

    def __init__(
        self,
        model: str,
        version: int | str = "production",
        fallback: str = "flat",
        reduce_fraction: float = 0.5,
        timeout_ms: float | None = None,
        store: str | None = None,
        refit_every: int | None = None,
        refit_window_bars: int | None = None,
        agent_id: str | None = None,
    ) -> None:
        super().__init__(agent_id)
        if fallback not in FALLBACKS:
            raise ConfigError(f"agent {self.id}: fallback {fallback!r} is not one of {FALLBACKS}")
        if not 0.0 <= reduce_fraction < 1.0:
            raise ConfigError(
                f"agent {self.id}: reduce_fraction {reduce_fraction} must be in [0, 1)"
            )
        if timeout_ms is not None and not timeout_ms > 0:
            raise ConfigError(f"agent {self.id}: timeout_ms {timeout_ms} must be > 0")
        if refit_every is not None and refit_every < 1:
            raise ConfigError(f"agent {self.id}: refit_every {refit_every} must be >= 1")
        if refit_window_bars is not None and refit_window_bars < 2:
            raise ConfigError(f"agent {self.id}: refit_window_bars must be >= 2")
        self.refit_every, self.refit_window_bars = refit_every, refit_window_bars
        self.model_version = ""
        self._rebalances = self._fits = 0
        # instrument -> (ts_init, model feature row, close) of every bar seen, for refits
        self._seen: dict[str, tuple[list[int], list[tuple[float, ...]], list[float]]] = {}
        self.model, self.requested_version = model, version
        self.fallback, self.reduce_fraction = fallback, reduce_fraction
        self.timeout_ms, self.store = timeout_ms, store
        self.card: ModelCard | None = None
        self.drift_reference: DriftReference | None = None
        self._drift_rows: deque[tuple[float, ...]] | None = None
        self._drift_predictions: deque[float] | None = None
        self.estimator: Any = None
        self.online: OnlineFeatures | None = None
        self._columns: list[int] = []
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._bar_error: str | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._running: concurrent.futures.Future[Any] | None = None
        self.lookback = 1

    # -- startup -----------------------------------------------------------------------------

    def parameters(self) -> dict[str, Any]:
        """Return the constructor's arguments and, once loaded, the model version and its
        artifact hash (so ``agent_version`` changes with the model)."""
        params = super().parameters()
        if self.card is not None:
            params["model_version"] = self.card.version
            params["artifact_hash"] = self.card.artifact_hash
        return params

    def check_run(self, run: Any) -> None:
        """Load the model and check it against the run's features (module docstring)."""
        features: FeatureSetConfig | None = getattr(run, "features", None)
        where = f"agent {self.id} (model {self.model})"
        if features is None:
            raise ConfigError(
                f"{where}: the run has no [features]; a model needs the feature set it was "
                "trained on"
            )
        registry = ModelRegistry(Path(self.store or features.store))
        card = registry.card(self.model, self.requested_version)
        if card.kind != self.kind:
            serve = (
                'the strategy class = "tradeloop.rl:ServedPolicy" (a policy trades its own '
                "position, outside the pipeline)"
                if card.kind == "rl"
                else f"agent type {card.kind}"
            )
            raise ConfigError(
                f"{where}: v{card.version} is a {card.kind} model, not {self.kind}; use {serve}"
            )
        try:
            artifact = registry.artifact(card)
            drift_reference = registry.drift_reference(card)
        except TradeloopError as error:
            raise ConfigError(f"{where}: {error}") from None
        provided = features.feature_names
        missing = [name for name in card.feature_names if name not in provided]
        if missing:
            raise ConfigError(
                f"{where} v{card.version} needs features the run does not provide: "
                f"{', '.join(missing)} (the run's feature set {features.name} has "
                f"{', '.join(provided)})"
            )
        if card.feature_hash != features.definition_hash():
            raise ConfigError(
                f"{where} v{card.version} was trained on feature set {card.feature_set} "
                f"with definitions {card.feature_hash[:16]}; the run's [features] "
                f"{features.name} has {features.definition_hash()[:16]}: the features differ, "
                "so the model would see other inputs than it learned from"
            )
        data_kinds: dict[str, tuple[str, ...]] = getattr(run, "data_kinds", {}) or {}
        for instrument_id in card.instruments:
            have = data_kinds.get(instrument_id)
            lacking = [k for k in features.micro_data if have is not None and k not in have]
            if lacking:
                raise ConfigError(
                    f"{where} v{card.version} needs {', '.join(lacking)} of {instrument_id} "
                    f"for its features and the run's [[data]] has none (it has "
                    f"{', '.join(have or ()) or 'nothing'})"
                )
        base = Path(getattr(run, "base_dir", "") or ".")
        externals = {spec.name: load_external(spec, base) for spec in features.external}
        self.estimator = load_estimator(card.kind, artifact)
        self.online = OnlineFeatures(features, externals)
        self.market_data = features.micro_data
        self._columns = [provided.index(name) for name in card.feature_names]
        self.card = card
        self.drift_reference = drift_reference
        self.model_version = str(card.version)
        self.lookback = features.warmup_bars

    # -- the loop ------------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Update the online features with ``bar``."""
        if self.online is None:
            return
        try:
            row = self.online.update(bar)
        except Exception as error:  # bad data for one bar: every later decision falls back
            self._bar_error = f"features of {bar.instrument_id}: {type(error).__name__}: {error}"
            return
        drift_rows = self._drift_rows
        if drift_rows is not None:
            drift_rows.append(row)
        if self.refit_every is not None:
            ts, rows, closes = self._seen.setdefault(bar.instrument_id, ([], [], []))
            ts.append(bar.ts_init)
            rows.append(tuple(row[j] for j in self._columns))
            closes.append(bar.close_raw / 10**bar.price_precision)

    def on_quote(self, quote: QuoteTick) -> None:
        """Take a quote for the microstructure features."""
        if self.online is not None:
            self._take_event(self.online.on_quote, quote)

    def on_trade(self, trade: TradeTick) -> None:
        """Take a trade print for the microstructure features."""
        if self.online is not None:
            self._take_event(self.online.on_trade, trade)

    def on_book(self, record: Any) -> None:
        """Take an order-book record for the microstructure features."""
        if self.online is not None:
            self._take_event(self.online.on_book, record)

    def _take_event(self, handler: Any, record: Any) -> None:
        try:
            handler(record)
        except Exception as error:  # bad data: every later decision falls back
            self._bar_error = f"features of {record.instrument_id}: {type(error).__name__}: {error}"

    def fit(self, fit_start_ns: int, fit_end_ns: int) -> int:
        """Refit the model on the bars seen, on ``[fit_start_ns, fit_end_ns]`` only.

        The rows are the model's instruments' feature rows stamped in the window whose label
        (the registered label spec, computed from the closes seen) ended by ``fit_end_ns``
        (``TrainingSet.window``); the estimator is the registered kind with its parameters.
        Returns the number of rows; with fewer than ``train.MIN_ROWS`` the model is kept.
        """
        import msgspec

        from tradeloop.features.compute import BarArrays
        from tradeloop.features.definitions import LabelSpec
        from tradeloop.features.labels import compute_label
        from tradeloop.features.store import FeatureTable
        from tradeloop.models.dataset import TrainingSet
        from tradeloop.models.estimators import make_estimator
        from tradeloop.models.train import MIN_ROWS

        card = self.card
        if card is None:
            raise ConfigError(f"agent {self.id}: no model loaded to refit")
        label = msgspec.convert(card.label, LabelSpec)
        tables = {}
        for instrument_id in card.instruments:
            seen = self._seen.get(instrument_id)
            if seen is None or not seen[0]:
                continue
            ts = np.array(seen[0], dtype=np.int64)
            closes = np.array(seen[2])
            matrix = np.array(seen[1], dtype=np.float64).reshape(len(ts), -1)
            labels, ends = compute_label(label, BarArrays(ts, ts, closes, closes, closes, closes))
            tables[instrument_id] = FeatureTable(
                instrument_id=instrument_id,
                ts_init=ts,
                features={n: matrix[:, k] for k, n in enumerate(card.feature_names)},
                label=labels,
                label_end_ns=ends,
            )
        if not tables:
            return 0
        rows = TrainingSet.from_tables(tables, card.feature_names).window(fit_start_ns, fit_end_ns)
        if len(rows) < MIN_ROWS:
            return len(rows)
        estimator = make_estimator(card.kind, card.params, 0)
        estimator.fit(rows.features, rows.label)
        self.estimator = estimator
        self._fits += 1
        self.model_version = f"{card.version}+wf{self._fits}"
        self._pending.append(
            (
                "fitted",
                {
                    "base_version": str(card.version),
                    "fit_start_ns": int(rows.ts_ns[0]),
                    "fit_end_ns": fit_end_ns,
                    "rows": len(rows),
                },
            )
        )
        return len(rows)

    def _maybe_refit(self, now_ns: int) -> None:
        self._rebalances += 1
        if self.refit_every is None or self._rebalances % self.refit_every:
            return
        start = 0
        if self.refit_window_bars is not None:
            stamps = sorted({t for ts, _, _ in self._seen.values() for t in ts})
            start = stamps[max(0, len(stamps) - self.refit_window_bars)] if stamps else 0
        self.fit(start, now_ns)

    def _predict(self, row: np.ndarray[Any, Any]) -> tuple[float, Any, float]:
        estimator = self.estimator
        prediction = float(estimator.predict(row))
        parts, bias = estimator.contributions(row)
        return prediction, parts, bias

    def _predict_with_timeout(self, row: np.ndarray[Any, Any]) -> tuple[float, Any, float]:
        if self.timeout_ms is None:
            return self._predict(row)
        if self._running is not None and not self._running.done():
            raise TimeoutError("the previous inference is still running")
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, f"model-{self.id}")
        self._running = self._pool.submit(self._predict, row)
        return self._running.result(timeout=self.timeout_ms / 1000.0)  # type: ignore[no-any-return]

    def _fall_back(self, instrument_id: str, reason: str, detail: str) -> None:
        fraction = {"flat": 0.0, "hold": 1.0, "reduce": 1.0 - self.reduce_fraction}[self.fallback]
        self._pending.append(
            (
                "fallback",
                {
                    "instrument_id": instrument_id,
                    "reason": reason,
                    "detail": detail,
                    "action": self.fallback,
                    "position_fraction": fraction,
                },
            )
        )

    def score_all(self, history: BarHistory, context: AgentContext) -> list[Signal]:
        """Predict every instrument of the universe (the benchmark left out)."""
        self._pending = []
        names = [i for i in context.universe if i != context.benchmark_id]
        card, online = self.card, self.online
        if card is None or online is None:
            for instrument_id in names:
                self._fall_back(
                    instrument_id, "not_loaded", "the run's startup check did not load the model"
                )
            return []
        if self._bar_error is not None:
            for instrument_id in names:
                self._fall_back(instrument_id, "error", self._bar_error)
            return []
        self._maybe_refit(context.ts_ns)
        signals = []
        for instrument_id in names:
            row_all = online.latest(instrument_id)
            row = None if row_all is None else np.array([row_all[j] for j in self._columns])
            if row is None or not np.isfinite(row).all():
                missing = (
                    card.feature_names
                    if row is None
                    else [
                        n
                        for n, v in zip(card.feature_names, row, strict=True)
                        if not math.isfinite(v)
                    ]
                )
                self._fall_back(
                    instrument_id, "missing_feature", f"no value for {', '.join(missing)}"
                )
                continue
            try:
                prediction, parts, bias = self._predict_with_timeout(row)
            except (TimeoutError, concurrent.futures.TimeoutError) as error:
                self._fall_back(
                    instrument_id, "timeout", f"inference over {self.timeout_ms:g} ms: {error}"
                )
                continue
            except Exception as error:  # the model's own failure: fall back, never crash
                self._fall_back(instrument_id, "error", f"{type(error).__name__}: {error}")
                continue
            if not math.isfinite(prediction):
                self._fall_back(instrument_id, "nan_output", f"prediction {prediction!r}")
                continue
            score = math.tanh(prediction / card.label_scale)
            if self._drift_predictions is not None:
                self._drift_predictions.append(prediction)
            order = np.argsort(-np.abs(parts), kind="stable")[:3]
            top = ", ".join(f"{card.feature_names[k]} {parts[k]:+.4f}" for k in order)
            signals.append(
                self.signal(
                    instrument_id,
                    score,
                    1.0,
                    f"{card.name} v{self.model_version}: predicted {prediction:+.4f} "
                    f"(label sd {card.label_scale:.4f}); top: {top}",
                )
            )
            self._pending.append(
                (
                    "prediction",
                    {
                        "instrument_id": instrument_id,
                        "prediction": prediction,
                        "score": score,
                        "bias": float(bias),
                        "contributions": tuple(
                            FeatureContribution(name, float(value), float(part))
                            for name, value, part in zip(
                                card.feature_names, row, parts, strict=True
                            )
                        ),
                    },
                )
            )
        return signals

    # -- drift (monitoring) ---------------------------------------------------------------------

    def keep_drift_window(self, size: int) -> None:
        """Keep the last ``size`` feature rows (one per bar) and predictions for drift.

        Raises
        ------
        ConfigError
            If ``size`` is below 2.
        """
        if size < 2:
            raise ConfigError(f"agent {self.id}: a drift window of {size} values is too small")
        self._drift_rows = deque(maxlen=size)
        self._drift_predictions = deque(maxlen=size)

    def drift_window(self) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
        """Return the live values kept: each model feature's (by name) and the predictions."""
        card = self.card
        rows = self._drift_rows
        if card is None or rows is None or self._drift_predictions is None:
            return {}, np.empty(0)
        if not rows:
            features = {name: np.empty(0) for name in card.feature_names}
            return features, np.array(self._drift_predictions, dtype=np.float64)
        matrix = np.array(rows, dtype=np.float64)
        features = {
            name: matrix[:, column]
            for name, column in zip(card.feature_names, self._columns, strict=True)
        }
        return features, np.array(self._drift_predictions, dtype=np.float64)

    def drain_events(self, rebalance_id: str, ts_ns: int) -> list[Event]:
        """Return the last rebalance's ``ModelPredicted`` and ``ModelFallback`` events."""
        card = self.card
        model_version = self.model_version
        out: list[Event] = []
        for kind, fields in self._pending:
            common: dict[str, Any] = {
                "rebalance_id": rebalance_id,
                "agent_id": self.id,
                "model": self.model,
                "model_version": model_version,
                "ts_event": ts_ns,
                "ts_init": ts_ns,
            }
            if kind == "prediction":
                assert card is not None
                out.append(
                    ModelPredicted(
                        **common,
                        **fields,
                        artifact_hash=card.artifact_hash,
                        feature_hash=card.feature_hash,
                    )
                )
            elif kind == "fitted":
                out.append(ModelFitted(**common, **fields))
            else:
                out.append(ModelFallback(**common, **fields))
        self._pending = []
        return out


class LightGBMAgent(ModelAgent):
    """A registered LightGBM model as a signal agent (pipeline agent type ``lightgbm``)."""

    kind = LightGBMModel.kind


class LinearAgent(ModelAgent):
    """A registered linear (ridge) model as a signal agent (pipeline agent type ``linear``)."""

    kind = LinearModel.kind
