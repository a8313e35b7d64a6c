"""``tradeloop stage status RUN`` and ``tradeloop stage promote RUN --approve``: capital stages
of a deployment (``engine.deployment``, ``risk.stages``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tradeloop.cli._common import err, out, user_errors
from tradeloop.core.errors import ConfigError

RunArgument = Annotated[Path, typer.Argument(help="A run directory (runs/<id>).")]


def register(app: typer.Typer) -> None:
    """Add ``stage status`` and ``stage promote`` to ``app``."""
    stage_app = typer.Typer(
        help="Capital stages: paper → shadow → pilot (10 %) → scale-up → full, behind gates.",
        no_args_is_help=True,
    )
    app.add_typer(stage_app, name="stage")

    @stage_app.command("status")
    def status_command(
        run: RunArgument,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Show the stage a run's deployment is at and each gate with its measured value."""
        from tradeloop.engine.deployment import stage_status

        with user_errors():
            status = stage_status(run)
        if as_json:
            import msgspec  # loads inside the command: `tradeloop --help` stays light

            body = msgspec.to_builtins(status)
            body["ready"] = status.ready
            print(json.dumps(body, sort_keys=True))
            return
        _print_status(status)
        if not status.ready:
            raise typer.Exit(1)

    @stage_app.command("promote")
    def promote_command(
        run: RunArgument,
        approve: Annotated[
            bool,
            typer.Option("--approve", help="Record the promotion (a person's decision)."),
        ] = False,
        by: Annotated[
            str | None, typer.Option("--by", help="Who approves (default: the login name).")
        ] = None,
    ) -> None:
        """Move the deployment to its next stage when every gate of this run holds."""
        from tradeloop.engine.deployment import promote, stage_status

        with user_errors():
            if not approve:
                status = stage_status(run)
                _print_status(status)
                raise ConfigError(
                    "a promotion is a person's decision: add --approve to record it"
                    + ("" if status.ready else " (and every gate must hold first)")
                )
            promotion = promote(run, approved_by=by)
        out.print(
            f"promoted {promotion.from_stage} → {promotion.to_stage}, approved by "
            f"{promotion.approved_by} at {promotion.at}; the next session runs at "
            f"{promotion.to_stage}",
            highlight=False,
            soft_wrap=True,
        )


def _print_status(status: object) -> None:
    from tradeloop.engine.deployment import StageStatus, describe_gate

    assert isinstance(status, StageStatus)
    out.print(
        f"deployment {status.deployment}: stage {status.stage} "
        f"({'live' if status.live else 'simulated'}, {status.fraction:g} of the capital) "
        f"since {status.entered_at}; run {status.run_state}",
        highlight=False,
        soft_wrap=True,
    )
    for gate in status.gates:
        mark = "ok  " if gate.holds else "FAIL"
        out.print(f"  {mark} {describe_gate(gate)}", highlight=False, soft_wrap=True, markup=False)
    if status.next_stage is None:
        out.print("last stage: nothing to promote to", highlight=False, soft_wrap=True)
    elif status.ready:
        out.print(
            f"ready: tradeloop stage promote {status.run} --approve moves it to "
            f"{status.next_stage}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    else:
        err.print(
            f"not ready for {status.next_stage}: a gate does not hold",
            highlight=False,
            soft_wrap=True,
        )
