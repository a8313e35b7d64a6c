"""Capital stages: the ladder's checks and the risk engine's stage budget."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.core import Quantity, TestClock
from tradeloop.core.errors import ConfigError
from tradeloop.model import OrderFactory, OrderSide
from tradeloop.risk import RiskConfig, RiskEngine
from tradeloop.risk.stages import DEFAULT_STAGES, DeploymentConfig, StageConfig

from .test_engine import AAPL, ES, FakeAccount, FakeOrders


def test_the_default_ladder_goes_paper_shadow_then_live_fractions_up_to_full() -> None:
    deployment = DeploymentConfig()
    assert [s.name for s in deployment.stages] == [
        "paper",
        "shadow",
        "pilot",
        "scale_25",
        "scale_50",
        "full",
    ]
    assert [s.fraction for s in DEFAULT_STAGES if s.live] == [0.10, 0.25, 0.50, 1.0]
    assert deployment.current.name == "paper"
    assert not deployment.current.live
    assert deployment.next_stage("pilot") is not None
    assert deployment.next_stage("pilot").name == "scale_25"  # type: ignore[union-attr]
    assert deployment.next_stage("full") is None
    assert DEFAULT_STAGES[0].gates["min_days"] == 90.0  # paper for three months


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"stage": "beta"}, "deployment stage 'beta' is not one of the ladder's stages"),
        ({"stages": []}, "a ladder needs at least one stage"),
        (
            {"stages": [{"name": "a", "live": True, "fraction": 0.5}] * 2},
            "deployment stages repeat a",
        ),
        (
            {"stage": "a", "stages": [{"name": "a", "live": True, "fraction": 0}]},
            "fraction 0.0 must be above 0 and at most 1",
        ),
        (
            {"stage": "a", "stages": [{"name": "a", "live": True, "fraction": 1.5}]},
            "fraction 1.5 must be above 0 and at most 1",
        ),
        (
            {
                "stage": "a",
                "stages": [{"name": "a", "live": True, "fraction": 1, "max_drawdown": 5}],
            },
            "max_drawdown 5.0 is a fraction of equity",
        ),
        (
            {"stage": "a", "stages": [{"name": "a", "live": True, "fraction": 1, "min_days": -1}]},
            "min_days -1.0 must be zero or a positive number",
        ),
        (
            {"stage": "a b", "stages": [{"name": "a b", "live": True, "fraction": 1}]},
            "is not a plain name",
        ),
    ],
)
def test_ladder_mistakes_are_config_errors_naming_the_value(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        msgspec.convert(table, type=DeploymentConfig)


def _risk(fraction: float, cash: int = 10_000, gross: int = 0) -> tuple[RiskEngine, OrderFactory]:
    class Account(FakeAccount):
        def gross_exposure_raw(self) -> int:
            return gross * 10**9

    clock = TestClock(100)
    risk = RiskEngine(
        RiskConfig(),
        clock,
        {AAPL.id: AAPL, ES.id: ES},
        Account(cash=cash),
        FakeOrders(),
        capital_fraction=fraction,
        stage="pilot",
    )
    return risk, OrderFactory("s", clock)


def test_an_order_past_the_stage_budget_is_denied_with_the_stage_and_its_budget() -> None:
    risk, f = _risk(0.10)  # equity 10,000: the pilot trades 1,000
    assert risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(10, 0))) is None
    reason = risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(11, 0)))
    assert reason == (
        "gross exposure after the order 1,100.00 exceeds the capital of stage pilot "
        "(0.1 × equity = 1,000.00)"
    )


def test_full_capital_has_no_stage_check() -> None:
    risk, f = _risk(1.0)
    assert risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(90, 0))) is None


@given(
    fraction=st.floats(min_value=0.01, max_value=0.99),
    quantity=st.integers(min_value=1, max_value=200),
    held=st.integers(min_value=0, max_value=5_000),
)
def test_a_stage_never_lets_exposure_pass_its_fraction_of_equity(
    fraction: float, quantity: int, held: int
) -> None:
    risk, f = _risk(fraction, cash=10_000, gross=held)
    reason = risk.check_submit(f.market(AAPL.id, OrderSide.BUY, Quantity(quantity, 0)))
    after = held + quantity * 100  # AAPL marked at 100
    if after > 10_000 * fraction + 1e-6:
        assert reason is not None
        assert "exceeds the capital of stage pilot" in reason
    elif after <= 10_000:
        assert reason is None or "capital of stage" not in reason


def test_stage_config_gates_list_only_the_gates_set() -> None:
    stage = StageConfig(name="x", live=True, fraction=0.5, min_days=3)
    assert stage.gates == {"min_days": 3.0}
