"""``tradeloop risk RUN``: VaR/CVaR, stress tests and correlation of a run's portfolio.

The portfolio is the one the journal holds at ``--at`` (default: the run's end), rebuilt by
the replay; ``tradeloop.reports.risk`` has the method. User mistakes end with one line on
stderr and exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tradeloop.cli._common import WideOption, err, out, print_table


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _matrix_rows(names: tuple[str, ...], matrix: Any) -> list[list[str]]:
    return [
        [name, *("-" if value != value else f"{value:+.2f}" for value in row)]
        for name, row in zip(names, matrix, strict=True)
    ]


def risk(
    run: Annotated[Path, typer.Argument(help="Run directory (runs/<run_id>) or its journal.")],
    at: Annotated[
        str, typer.Option("--at", help="Instant: ISO date/time, nanoseconds, 'start' or 'end'.")
    ] = "end",
    confidence: Annotated[
        float, typer.Option("--confidence", help="VaR confidence in (0, 1).")
    ] = 0.99,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="VaR horizon in trading days.")
    ] = 1,
    window: Annotated[
        int, typer.Option("--window", help="Daily returns of history used (the latest ones).")
    ] = 500,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")] = 20_000,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Monte Carlo seed (default: the run's seed).")
    ] = None,
    shock: Annotated[
        list[str] | None,
        typer.Option(
            "--shock",
            help="A user stress: 'name=crash,spot=-0.2,vol=0.1,rate=-0.005,days=1' "
            "(spot.<ID>= for one instrument). Repeatable.",
        ),
    ] = None,
    corr_window: Annotated[
        int, typer.Option("--corr-window", help="Days of the rolling correlation.")
    ] = 60,
    rate: Annotated[
        float, typer.Option("--rate", help="Continuously compounded rate for option pricing.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    base_dir: Annotated[
        Path | None,
        typer.Option("--base-dir", help="Directory the run was started from (its data paths)."),
    ] = None,
    wide: WideOption = False,
) -> None:
    """Print VaR/CVaR (four methods), stress tests and correlation of a run's portfolio."""
    from tradeloop.cli.inspect import _check_base_dir, _user_errors, outside_note, parse_instant
    from tradeloop.options.stress import StressScenario
    from tradeloop.reports.risk import run_risk
    from tradeloop.reports.run import RunInputs

    with _user_errors():
        _check_base_dir(base_dir)
        shocks = [StressScenario.parse(text) for text in shock or ()]
        inputs = RunInputs(run, base_dir)
        at_ns = parse_instant(at, inputs.index.first_ts, inputs.end_ts)
        result = run_risk(
            inputs,
            at_ns=at_ns,
            confidence=confidence,
            horizon_days=horizon_days,
            window=window,
            paths=paths,
            seed=inputs.manifest.seed if seed is None else seed,
            shocks=shocks,
            corr_window=corr_window,
            r=rate,
        )
    note = outside_note(at_ns, inputs.index.first_ts, inputs.end_ts)
    if note is not None:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    for message in inputs.notes:
        err.print(f"note: {message}", highlight=False, soft_wrap=True)
    if as_json:
        import msgspec

        print(msgspec.json.encode(_as_dict(result)).decode())
        return
    _print(result, wide)


def _as_dict(result: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from tradeloop.core.time import ns_to_iso

    corr = result.correlation
    return {
        "run_id": result.run_id,
        "at": ns_to_iso(result.at_ns),
        "currency": result.currency,
        "value": result.value,
        "confidence": result.confidence,
        "horizon_days": result.horizon_days,
        "window_days": result.window_days,
        "history": [ns_to_iso(result.history_start_ns), ns_to_iso(result.history_end_ns)]
        if result.window_days
        else None,
        "seed": result.seed,
        "paths": result.paths,
        "positions": [asdict(p) for p in result.positions],
        "sensitivities": None
        if result.sensitivities is None
        else {
            "factors": list(result.sensitivities.factors),
            "delta_per_unit_return": result.sensitivities.delta.tolist(),
            "gamma_per_unit_return_squared": result.sensitivities.gamma.diagonal().tolist(),
            "vega": result.sensitivities.vega,
            "theta_per_year": result.sensitivities.theta,
            "rho": result.sensitivities.rho,
        },
        "var": {
            m.method: (asdict(m.result) if m.result is not None else {"error": m.reason})
            for m in result.methods
        },
        "stress": [
            {
                "name": s.scenario.name,
                "description": s.scenario.description,
                "spot_returns": dict(s.scenario.spot_returns),
                "basis": dict(s.scenario.basis),
                "vol_shift": s.scenario.vol_shift,
                "rate_shift": s.scenario.rate_shift,
                "days": s.scenario.days,
                "pnl": s.pnl,
                "position_pnl": s.position_pnl,
            }
            for s in result.stress
        ],
        "correlation": None
        if corr is None
        else {
            "instruments": list(corr.instruments),
            "full": corr.full.tolist(),
            "rolling_window": corr.rolling_window,
            "rolling_latest": None if corr.rolling_latest is None else corr.rolling_latest.tolist(),
            "regime_source": corr.regime_source,
            "by_regime": {
                label: {"observations": n, "matrix": matrix.tolist()}
                for label, n, matrix in corr.by_regime
            },
        },
        "notes": result.notes,
    }


def _print(result: Any, wide: bool) -> None:
    from tradeloop.core.time import ns_to_iso

    out.print(
        f"[bold]{result.run_id}[/] at {ns_to_iso(result.at_ns)}: portfolio value "
        f"{_money(result.value)} {result.currency}",
        highlight=False,
    )
    if result.positions:
        print_table(
            "positions",
            [("instrument", "left"), ("quantity", "right"), ("price", "right"), ("value", "right")],
            (
                [p.instrument_id, f"{p.quantity:,.6g}", f"{p.price:,.4f}", _money(p.value)]
                for p in result.positions
            ),
            wide=wide,
        )
    greeks = result.sensitivities
    if greeks is not None:
        print_table(
            "book Greeks",
            [
                ("factor", "left"),
                ("spot", "right"),
                ("delta per 1 %", "right"),
                ("gamma per (1 %)²", "right"),
            ],
            (
                [f, f"{spot:,.4f}", _money(d * 0.01), _money(0.5 * g * 1e-4)]
                for f, spot, d, g in zip(
                    greeks.factors, greeks.spots, greeks.delta, greeks.gamma.diagonal(), strict=True
                )
            ),
            wide=wide,
            caption=f"vega per vol point {_money(greeks.vega / 100)}, theta per day "
            f"{_money(greeks.theta / 365)}, rho per 1 % of rate {_money(greeks.rho / 100)}",
        )
    if result.methods:
        history = (
            f"{result.window_days} daily returns {ns_to_iso(result.history_start_ns)[:10]}.."
            f"{ns_to_iso(result.history_end_ns)[:10]}"
        )
        rows = []
        for m in result.methods:
            if m.result is None:
                rows.append([m.method, "-", "-", "not run (below)"])
                continue
            r = m.result
            detail = {
                "historical": f"{r.observations} scenarios, full revaluation",
                "parametric": f"sigma {_money(r.std)}",
                "delta_gamma": f"Cornish-Fisher, skew {r.details.get('skewness', 0.0):+.3f}",
                "monte_carlo": f"{r.observations} paths, seed {result.seed}, full revaluation",
            }[m.method]
            rows.append([m.method, _money(r.var), _money(r.cvar), detail])
        print_table(
            f"VaR and CVaR, {result.confidence:.4g}, {result.horizon_days} day(s) ({history})",
            [("method", "left"), ("VaR", "right"), ("CVaR", "right"), ("how", "left")],
            rows,
            wide=wide,
            drop_order=("how",),
        )
        for m in result.methods:
            if m.result is None:
                out.print(f"  {m.method} not run: {escape(str(m.reason))}", highlight=False)
    gross = sum(abs(p.value) for p in result.positions)
    if result.stress:
        print_table(
            "stress tests (P&L)",
            [
                ("scenario", "left"),
                ("P&L", "right"),
                ("% of gross", "right"),
                ("spot moves", "left"),
                ("vol", "right"),
                ("rate", "right"),
            ],
            (
                [
                    s.scenario.name,
                    _money(s.pnl),
                    f"{s.pnl / gross:+.1%}" if gross else "-",
                    ", ".join(
                        f"{k} {v:+.1%} ({s.scenario.basis.get(k, '')})".replace(" ()", "")
                        for k, v in s.scenario.spot_returns.items()
                    ),
                    f"{s.scenario.vol_shift * 100:+.1f} pt",
                    f"{s.scenario.rate_shift * 1e4:+.0f} bp",
                ]
                for s in result.stress
            ),
            wide=wide,
            drop_order=("spot moves",),
        )
    corr = result.correlation
    if corr is not None and len(corr.instruments) > 1:
        columns = [("", "left"), *((name, "right") for name in corr.instruments)]
        print_table(
            f"correlation of daily returns ({result.window_days} days)",
            columns,
            _matrix_rows(corr.instruments, corr.full),
            wide=wide,
        )
        if corr.rolling_latest is not None:
            print_table(
                f"correlation, latest {corr.rolling_window} days",
                columns,
                _matrix_rows(corr.instruments, corr.rolling_latest),
                wide=wide,
            )
        for label, n, matrix in corr.by_regime:
            print_table(
                f"correlation in regime {label} ({n} days; {corr.regime_source})",
                columns,
                _matrix_rows(corr.instruments, matrix),
                wide=wide,
            )
    for message in result.notes:
        out.print(f"[yellow]note:[/] {escape(message)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``risk`` to the ``tradeloop`` app."""
    app.command("risk")(risk)
