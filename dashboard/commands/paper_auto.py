"""Paper-trading automation: ``python -m dashboard paper run|report|export-ml|signals``.

Registered on the ``paper`` parser of :mod:`dashboard.commands.paper` (its ``register``
calls :func:`add_commands`); this module's own :func:`register` adds nothing.

``run --account N --strategy S --tickers T... [--params k=v,...] [--feed replay|yahoo|mt5]
[--start D] [--end D] [--speed X]`` plus every engine option of ``backtest`` (sizing, lots,
stops, time stop, max positions, costs, cash) with the same defaults and the same parsers
(:func:`core.requests.build_backtest_request`); ``--cash`` and ``--costs`` default to the
account's. ``--interval 5min`` (and the other intraday intervals) replays intraday bars,
with ``--day-trade``, ``--flatten-minutes``, ``--contracts``, ``--margin``,
``--fee-per-contract`` and ``--slippage-ticks`` as in ``backtest`` — e.g. ``paper run
--account win --strategy opening_range_breakout --tickers WINFUT --interval 5min --day-trade
--contracts 1``; ``--json`` adds ``interval`` (``last_bar`` with the time on intraday).
Runs in the foreground until the replay ends (a live feed: until interrupted);
rerun after a crash, it resumes after the last processed bar. Alerts fired on the run's bars
(:func:`core.alerts.engine.runner_hooks`) are delivered while it runs (this process runs a
delivery worker with the settings' channels) and drained before the command exits (at most
``DRAIN_SECONDS``; what is still retrying stays queued for the app's worker): the output
says how many fired and how many deliveries were sent; ``--json`` adds the key ``alerts``
(``firings, sent, failed, skipped, pending``).

``report --account N [--flags k=v,...]`` prints seed 002's card, red flags and trades; with
``--json`` the keys ``equity, cash, n_trades, win_rate, win_rate_ci, sharpe,
max_drawdown_pct, trades, red_flags`` (``trades`` in the shape of ``backtest --json``'s).

``export-ml --account N [--output FILE]`` stores and writes seed 002's ML training data as
CSV; ``signals --account N [--output FILE]`` writes the signal log as CSV.
Errors: one line on stderr, exit status 2.
"""

from __future__ import annotations

from dashboard.cli import dumps, progress_printer

__all__ = ["register", "add_commands", "run_request_from_args", "DRAIN_SECONDS"]

#: Longest wait, after the run, for the alert deliveries it queued (seconds).
DRAIN_SECONDS = 30.0


def register(sub, common) -> None:  # noqa: ARG001 - discovered by dashboard.cli
    """Nothing: the commands hang on ``paper``'s parser (:func:`add_commands`)."""
    return None


def run_request_from_args(args, store):
    """``(BacktestRequest, EngineConfig)`` of ``paper run``'s arguments.

    ``--cash``/``--costs`` default to the account's; every other engine option to
    ``backtest``'s default. Options a runner cannot reproduce are refused
    (:func:`core.trading.runner.check_supported`).
    """
    from core.trading.accounts import get_account
    from core.trading.runner import check_supported
    from dashboard.commands.backtest import backtest_request_from_args

    acc = get_account(store, args.account)
    if args.cash is None:
        args.cash = str(acc.initial_cash)
    if args.costs is None:
        args.costs = acc.costs if acc.costs in ("b3", "none") else None
    if args.reinvest is None:
        args.reinvest = False
    req = backtest_request_from_args(args)
    cfg = req.engine_config()
    check_supported(cfg, adjusted=req.adjusted)
    return req, cfg


def _run(args, ctx) -> int:
    from core.alerts.engine import runner_hooks
    from core.errors import InputError
    from core.requests.parsing import parse_number
    from core.trading.runner import StrategyRunner

    store = ctx.store()
    req, cfg = run_request_from_args(args, store)
    speed = parse_number(args.speed, "Velocidade (barras/s)", default=None, lo=0)
    feed = None
    if args.feed == "yahoo":
        from core.trading.feeds import YahooFeed

        feed = YahooFeed(list(req.tickers))
    elif args.feed == "mt5":
        from core.trading.feeds import MT5Feed

        feed = MT5Feed(list(req.tickers))
    elif args.feed != "replay":
        raise InputError(f"Feed desconhecido {args.feed!r}: use replay, yahoo ou mt5.")
    fired: list[int] = []  # ids of the new firings of this run (its hooks' results)
    runner = StrategyRunner(
        store,
        args.account,
        req.strategy,
        list(req.tickers),
        dict(req.params),
        cfg,
        feed,
        _collecting(runner_hooks(args.account, list(req.tickers)), fired),
        start=req.start,
        end=req.end,
        speed=speed,
        feed_kind=args.feed,
        interval=req.interval,
    )
    prog = None if args.json else progress_printer()
    st, alerts = _run_delivering(store, ctx.settings, runner, prog, fired)
    fmt = "%Y-%m-%d" if st.interval == "1d" else "%Y-%m-%d %H:%M"
    if args.json:
        print(
            dumps(
                {
                    "account": st.account,
                    "strategy": st.strategy,
                    "tickers": st.tickers,
                    "status": st.status,
                    "last_bar": None if st.last_bar is None else f"{st.last_bar:{fmt}}",
                    "bars_done": st.bars_done,
                    "bars_total": st.bars_total,
                    "message": st.message,
                    "alerts": alerts,
                    "interval": st.interval,
                }
            )
        )
    else:
        from core.textfmt import date as fmt_date
        from core.textfmt import datetime as fmt_dt

        daily = st.interval == "1d"
        last = "-" if st.last_bar is None else (fmt_date if daily else fmt_dt)(st.last_bar)
        unit = "pregões" if daily else f"barras de {st.interval}"
        print(
            f"Robô {st.strategy} na conta {st.account}: {st.status}, {st.bars_done} de "
            f"{st.bars_total} {unit} (último {last}). {st.message}".strip()
        )
        if alerts["firings"]:
            from core.textfmt import integer

            line = (
                f"Alertas: {integer(alerts['firings'])} disparos; entregas: "
                f"{integer(alerts['sent'])} enviadas, {integer(alerts['failed'])} falharam, "
                f"{integer(alerts['skipped'])} ignoradas"
            )
            if alerts["pending"]:
                line += (
                    f", {integer(alerts['pending'])} ainda na fila (o app as envia quando "
                    "estiver aberto)"
                )
            print(line + ".")
    return 0


def _collecting(hooks, fired: list[int]) -> list:
    """``hooks`` wrapped so that the ids of the new firings they return land in ``fired``."""

    def wrap(hook):
        def run_hook(s, event):
            out = hook(s, event)
            for f in out or ():
                if getattr(f, "new", True) and getattr(f, "id", None) is not None:
                    fired.append(int(f.id))
            return out

        return run_hook

    return [wrap(h) for h in hooks]


def _run_delivering(store, settings, runner, progress, fired: list[int]):
    """Run ``runner`` with a delivery worker, then drain what its alerts queued.

    ``fired`` collects the new firings of the run (:func:`_collecting` hooks); the worker is
    started before the first bar (a live feed delivers while it runs) and, after the last
    bar (or an interruption), given up to :data:`DRAIN_SECONDS` to send the queue.

    Returns
    -------
    (RunnerStatus, dict)
        The runner's status and the counts ``firings`` (new firings of this run),
        ``sent, failed, skipped, pending`` (their external deliveries by outcome; in-app
        notifications are stored with the firing and not counted here).
    """
    from core.alerts import dispatch

    worker = dispatch.start_worker(store, settings.channel_config())
    try:
        st = runner.run(progress=progress)
    finally:
        try:
            if fired:
                worker.drain(DRAIN_SECONDS)
        finally:
            dispatch.stop_worker(5)
    return st, _delivery_counts(store, fired)


def _delivery_counts(store, firing_ids: list[int]) -> dict:
    """``firings, sent, failed, skipped, pending`` of the deliveries of ``firing_ids``."""
    from sqlalchemy import func, select

    from core.alerts.delivery_models import AlertDelivery

    d = AlertDelivery.__table__
    ids = sorted(set(firing_ids))
    out = {"firings": len(ids), "sent": 0, "failed": 0, "skipped": 0, "pending": 0}
    if not ids:
        return out
    with store.engine.connect() as conn:
        for status, n in conn.execute(
            select(d.c.status, func.count()).where(d.c.firing_id.in_(ids)).group_by(d.c.status)
        ):
            key = status if status in ("sent", "failed", "skipped") else "pending"
            out[key] += int(n)
    return out


def _report(args, ctx) -> int:
    from core.textfmt import brl, num, pct
    from core.trading.monitor import RedFlagRules, monitor

    res = monitor(ctx.store(), args.account, rules=RedFlagRules.from_text(args.flags))
    if args.json:
        print(dumps(res.to_json_dict()))
        return 0
    c = res.card
    lo, hi = c.win_rate_ci
    print(
        f"Conta {args.account}: {c.n_trades} / {c.next_milestone} operações (faltam {c.to_milestone})"
    )
    if c.n_trades:
        print(
            f"  Taxa de acerto  {pct(c.win_rate)} ({c.wins}G / {c.losses}P; IC 95% "
            f"{pct(lo, 0)}–{pct(hi, 0)})"
        )
        print(f"  Retorno médio   {pct(c.avg_return_pct / 100, sign=True)} por operação")
    print(f"  Sharpe          {num(c.sharpe)}")
    print(f"  Drawdown máx.   {pct(c.max_drawdown_pct / 100)}")
    print(f"  Capital         {brl(c.equity)} ({pct(c.return_pct / 100, sign=True)})")
    for f in res.flags:
        print(f"  {'⚠ ' if f.active else '  '}{f.message}")
    if len(res.trades):
        print(res.trades.tail(20).to_string(index=False))
    return 0


def _write_csv(df, output) -> None:
    if output:
        df.to_csv(output, index=False)
        print(f"{len(df)} linhas gravadas em {output}.")
    else:
        import sys

        df.to_csv(sys.stdout, index=False)


def _export_ml(args, ctx) -> int:
    from core.trading.accounts import get_account
    from core.trading.monitor import collect_ml_data, ml_training_frame

    store = ctx.store()
    acc = get_account(store, args.account)
    n = collect_ml_data(store, acc.name)
    df = ml_training_frame(store, acc.name)
    if args.json:
        print(dumps({"new": n, "rows": df.to_dict(orient="records")}))
        return 0
    _write_csv(df, args.output)
    return 0


def _signals(args, ctx) -> int:
    from core.trading.accounts import get_account
    from core.trading.runner import signal_log

    store = ctx.store()
    acc = get_account(store, args.account)
    df = signal_log(store, acc.name)
    if args.json:
        print(dumps(df.to_dict(orient="records")))
        return 0
    _write_csv(df, args.output)
    return 0


def add_commands(ps, common) -> None:
    """Add ``run``, ``report``, ``export-ml`` and ``signals`` to ``paper``'s subparsers."""
    from dashboard.commands.backtest import _common_options

    q = ps.add_parser("run", parents=[common], help="let a strategy trade the account")
    q.add_argument("--account", required=True, metavar="N", help="account name")
    _common_options(q)
    q.add_argument("--feed", default="replay", choices=["replay", "yahoo", "mt5"])
    q.add_argument(
        "--speed",
        metavar="X",
        help="replay speed in bars per second (default: as fast as possible)",
    )
    q.set_defaults(func=_run)

    q = ps.add_parser("report", parents=[common], help="seed 002 monitor of an account")
    q.add_argument("--account", required=True, metavar="N", help="account name")
    q.add_argument("--flags", default="", metavar="k=v,...", help="red-flag thresholds")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_report)

    q = ps.add_parser("export-ml", parents=[common], help="ML training data of an account (CSV)")
    q.add_argument("--account", required=True, metavar="N", help="account name")
    q.add_argument("--output", metavar="FILE", help="CSV file (default: standard output)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_export_ml)

    q = ps.add_parser("signals", parents=[common], help="signal log of an account (CSV)")
    q.add_argument("--account", required=True, metavar="N", help="account name")
    q.add_argument("--output", metavar="FILE", help="CSV file (default: standard output)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_signals)
