"""Capital stages: how much of the account a deployment may put at risk, and the gates that
must hold before it moves to the next stage.

A deployment walks a ladder of stages (the default follows the plan "paper for three months,
then shadow, then 10 % of the target, then a gradual scale-up under monitoring, then full")::

    stage      live   fraction  gates to leave it
    paper      no     1.00      90 days, drawdown <= 20 %, tracking error <= 2 %
    shadow     no     1.00      14 days, drawdown <= 20 %, slippage gap <= 5 bps
    pilot      yes    0.10      14 days, drawdown <= 10 %, tracking error, slippage, no breaks
    scale_25   yes    0.25      14 days, same
    scale_50   yes    0.50      14 days, same
    full       yes    1.00      (last stage)

``fraction`` is the part of the account's capital the strategies trade with. The kernel
applies it in two places, never inside a strategy: the capital strategies see (equity is
``fraction`` x the account's equity; cash is what is left of that budget after the positions)
so that strategies that size from equity trade ``fraction`` of their size, and the risk engine
denies any order that would take the gross exposure above ``fraction`` x equity, so that a
strategy with fixed sizes cannot go past the stage either. Scaling each order's quantity
instead would fight strategies that trade towards a target position (they would re-send the
missing part on every bar).

Only ``live`` stages may run ``tradeloop live``; ``paper`` and ``shadow`` trade simulated
money. A ``[[deployment.stages]]`` list replaces the ladder; each gate left out of a stage is
not checked for it.
"""

from __future__ import annotations

import math

import msgspec

from tradeloop.core.errors import ConfigError


class StageConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One stage of the ladder and the gates that must hold to leave it.

    ``min_days``: days spent in the stage; ``max_drawdown``: the run's worst peak-to-trough
    fall of equity (a fraction, 0.1 = 10 %); ``max_tracking_error``: root mean square of the
    relative gap between the run's equity and its replay on the simulator
    (``backtest --from-journal``), a fraction; ``max_slippage_gap_bps``: how much worse the
    run's fills were than the model's, in basis points (live: each fill against the replay's
    fill of the same order; shadow: simulated fills against the venue's quote at that
    instant); ``max_reconciliation_breaks``: unresolved breaks with the venue.
    """

    name: str
    live: bool
    fraction: float
    min_days: float | None = None
    max_drawdown: float | None = None
    max_tracking_error: float | None = None
    max_slippage_gap_bps: float | None = None
    max_reconciliation_breaks: int | None = None

    def __post_init__(self) -> None:
        where = f"deployment stage {self.name!r}"
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"deployment stage name {self.name!r} is not a plain name")
        if not (math.isfinite(self.fraction) and 0 < self.fraction <= 1):
            raise ConfigError(f"{where} fraction {self.fraction} must be above 0 and at most 1")
        for key in ("min_days", "max_drawdown", "max_tracking_error", "max_slippage_gap_bps"):
            value = getattr(self, key)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{where} {key} {value} must be zero or a positive number")
        if self.max_drawdown is not None and self.max_drawdown >= 1:
            raise ConfigError(
                f"{where} max_drawdown {self.max_drawdown} is a fraction of equity (0.1 = 10 %) "
                "and must be below 1"
            )
        if self.max_reconciliation_breaks is not None and self.max_reconciliation_breaks < 0:
            raise ConfigError(
                f"{where} max_reconciliation_breaks {self.max_reconciliation_breaks} must be "
                "zero or more"
            )

    @property
    def gates(self) -> dict[str, float]:
        """Return the gates this stage checks, by name, with their limits."""
        out: dict[str, float] = {}
        for key in (
            "min_days",
            "max_drawdown",
            "max_tracking_error",
            "max_slippage_gap_bps",
            "max_reconciliation_breaks",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = float(value)
        return out


def _live_stage(name: str, fraction: float) -> StageConfig:
    return StageConfig(
        name=name,
        live=True,
        fraction=fraction,
        min_days=14.0,
        max_drawdown=0.10,
        max_tracking_error=0.02,
        max_slippage_gap_bps=5.0,
        max_reconciliation_breaks=0,
    )


DEFAULT_STAGES: tuple[StageConfig, ...] = (
    StageConfig(
        name="paper",
        live=False,
        fraction=1.0,
        min_days=90.0,
        max_drawdown=0.20,
        max_tracking_error=0.02,
    ),
    StageConfig(
        name="shadow",
        live=False,
        fraction=1.0,
        min_days=14.0,
        max_drawdown=0.20,
        max_slippage_gap_bps=5.0,
    ),
    _live_stage("pilot", 0.10),
    _live_stage("scale_25", 0.25),
    _live_stage("scale_50", 0.50),
    StageConfig(name="full", live=True, fraction=1.0),
)


class DeploymentConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[deployment]``: the stage this deployment starts at and its ladder.

    ``stage`` is where the deployment starts; ``tradeloop stage promote RUN --approve`` moves
    it on (recorded in ``<output_dir>/deployments/<name>.jsonl``, which then decides the stage
    of the next session: the config file is never rewritten). ``name`` names that ledger
    (default: the run's name). ``stages`` replaces the default ladder.
    """

    stage: str = "paper"
    name: str | None = None
    stages: list[StageConfig] = msgspec.field(default_factory=lambda: list(DEFAULT_STAGES))

    def __post_init__(self) -> None:
        if not self.stages:
            raise ConfigError("deployment stages is empty: a ladder needs at least one stage")
        names = [s.name for s in self.stages]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(f"deployment stages repeat {', '.join(repeated)}")
        if self.stage not in names:
            raise ConfigError(
                f"deployment stage {self.stage!r} is not one of the ladder's stages "
                f"({', '.join(names)})"
            )

    def find(self, name: str) -> StageConfig:
        """Return the stage called ``name``.

        Raises
        ------
        ConfigError
            If the ladder has no such stage.
        """
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise ConfigError(
            f"deployment stage {name!r} is not one of the ladder's stages "
            f"({', '.join(s.name for s in self.stages)})"
        )

    def next_stage(self, name: str) -> StageConfig | None:
        """Return the stage after ``name``, or ``None`` at the last one."""
        names = [s.name for s in self.stages]
        index = names.index(self.find(name).name)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    @property
    def current(self) -> StageConfig:
        """Return the stage this config says the deployment is at."""
        return self.find(self.stage)
