"""Pipeline: the multi-agent trading pipeline as a strategy whose stages talk through
journaled decision events."""

from tradeloop.pipeline.config import (
    AGENT_TYPES,
    METHODS,
    AgentSpec,
    BetaSpec,
    ConstructionSpec,
    CostSpec,
    ExecutionSpec,
    PipelineConfig,
    RegimeSpec,
)
from tradeloop.pipeline.schedule import ExecutionSchedule, ExecutionScheduleConfig, ScheduledOrder
from tradeloop.pipeline.strategy import Pipeline, build_agent

__all__ = [
    "AGENT_TYPES",
    "METHODS",
    "AgentSpec",
    "BetaSpec",
    "ConstructionSpec",
    "CostSpec",
    "ExecutionSchedule",
    "ExecutionScheduleConfig",
    "ExecutionSpec",
    "Pipeline",
    "PipelineConfig",
    "RegimeSpec",
    "ScheduledOrder",
    "build_agent",
]
