"""The node's capital stages over the API (``monitoring.monitor.StageDesk``): which run speaks
for the deployment, its gates measured now, and the promotion an admin approved.

A run is named by its id (a directory under the node's ``output_dir``; nothing else is
read); without one, the deployment's latest ended run (completed or stopped) at its current
stage is used, newest journal first. Measuring and promoting are ``engine.deployment``'s
``stage_status`` and ``promote``: the gates are measured again when an admin approves, and a
promotion whose gates do not hold is refused with each failing gate.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


class NodeStageDesk:
    """The stages of ``config``'s deployment, for its node's API."""

    def __init__(self, config: RunConfig, output_dir: str | None = None) -> None:
        if config.deployment is None:
            raise ConfigError("the run config has no [deployment]: there is no stage to promote")
        self.config = config
        self.root = Path(config.run.output_dir if output_dir is None else output_dir)
        self.name = config.deployment.name or config.run.name

    def resolve_run(self, run: str | None) -> str:
        """Return the run directory (see the module docstring).

        Raises
        ------
        ConfigError
            If ``run`` is not a run id under the output directory, or there is no ended run.
        """
        if run is not None:
            if not _RUN_ID.fullmatch(run) or ".." in run:
                raise ConfigError(f"run {run!r} is not a run id (runs/<id>: letters, digits, -_.)")
            path = self.root / run
            if not (path / "journal.sqlite").is_file():
                raise ConfigError(f"run {run!r} is not a run of this node ({path} has no journal)")
            return str(path)
        return str(self._latest())

    def _latest(self) -> Path:
        from tradeloop.engine.deployment import ledger_path, read_ledger
        from tradeloop.journal.status import run_status
        from tradeloop.journal.store import read_manifest

        promotions = read_ledger(ledger_path(self.config, self.root))
        assert self.config.deployment is not None
        stage = promotions[-1].to_stage if promotions else self.config.deployment.stage
        journals = sorted(
            self.root.glob("*/journal.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for journal in journals:
            try:
                config = msgspec.json.decode(read_manifest(journal).config_json, type=RunConfig)
            except (msgspec.ValidationError, msgspec.DecodeError, ConfigError):
                continue
            deployment = config.deployment
            if deployment is None or (deployment.name or config.run.name) != self.name:
                continue
            if deployment.stage != stage:
                continue
            if run_status(journal.parent).state in ("completed", "stopped"):
                return journal.parent
        raise ConfigError(
            f"no ended run of deployment {self.name!r} at stage {stage!r} under {self.root}: "
            "name one (run=<id>)"
        )

    def status(self, run: str | None) -> dict[str, Any]:
        """Return the stage status of the run with every gate measured, and ``ready``."""
        from tradeloop.engine.deployment import stage_status

        status = stage_status(self.resolve_run(run))
        body: dict[str, Any] = msgspec.to_builtins(status)
        body["ready"] = status.ready
        return body

    def promote(self, run: str, by: str) -> dict[str, Any]:
        """Measure the gates again and record the promotion approved by ``by``."""
        from tradeloop.engine.deployment import promote

        promotion = promote(run, approved_by=by)
        body: dict[str, Any] = msgspec.to_builtins(promotion)
        return body
