"""``alerts``: alert rules, their evaluation over stored bars and the firing history.

``python -m dashboard alerts add --name "PETR4 cruza MMS 50" --ticker PETR4
--condition "crosses_above(close, sma(50))" [--channels inapp,telegram] [--cooldown 5]``
(other kinds: ``--kind strategy --strategy sma_cross [--params fast=10,slow=30]``,
``--kind model``, ``--kind anomaly``, ``--kind account [--account A] [--events fill,stop]
[--drawdown 5] [--win 3] [--loss 2]``, ``--kind daily_summary``, ``--kind data_health [--max-behind 2]``) ·
``list`` · ``remove NAME`` · ``pause NAME`` · ``resume NAME`` ·
``run [--start D] [--end D] [--rule NAME] [--ticker T] [--dry-run] [--send]`` (evaluate
the bar rules over the stored bars and print every firing: rule, ticker, date, values,
message) · ``check [--summary]`` (account events, data health and, with ``--summary``,
today's summary, now; new firings are dispatched) · ``history [--limit N]`` · ``test --channel C``
(send a sample message through one channel now and say whether it arrived) · ``deliveries
[--status S] [--channel C]`` (the delivery log) · ``bot`` (run the Telegram bot in the
foreground: team mode, one process). All take ``--json``. The expression language is
documented in ``docs/ALERTS.md`` and :mod:`core.alerts.expr`.
"""

from __future__ import annotations

from dashboard.cli import dumps, progress_printer

__all__ = ["register"]


def _split(values) -> list[str]:
    out: list[str] = []
    if isinstance(values, str):
        values = [values]
    for v in values or []:
        out += [x.strip() for x in str(v).split(",") if x.strip()]
    return out


def _rule_from_args(args):
    from core.alerts.rules import Rule
    from core.errors import InputError
    from core.strategies import parse_params

    kind = args.kind or ("strategy" if args.strategy else "expr")
    params: dict = {}
    if kind == "strategy":
        params = {
            "strategy": args.strategy,
            "strategy_params": parse_params(args.params),
            "signals": _split(args.signals) or None,
        }
    elif kind == "model":
        params = {"direction": args.direction}
    elif kind == "anomaly":
        params = {"contamination": args.contamination, "min_severity": args.min_severity}
    elif kind == "account":
        params = {
            "account": args.account,
            "events": _split(args.events) or None,
            "drawdown_pct": args.drawdown,
            "win_pct": args.win,
            "loss_pct": args.loss,
        }
    elif kind == "daily_summary":
        params = {"account": args.account}
    elif kind == "data_health":
        params = {"max_behind": args.max_behind}
    if args.condition and kind != "expr":
        raise InputError("--condition vale só para --kind expr.")
    return Rule(
        name=args.name,
        kind=kind,
        tickers=_split(args.ticker),
        condition=args.condition or "",
        params=params,
        channels=_split(args.channels) or ["inapp"],
        cooldown=args.cooldown,
        severity=args.severity or "",
    )


def _print_firing(f) -> None:
    from core import textfmt

    def show(k, v):
        if isinstance(v, float):
            return textfmt.integer(v) if "volume" in k else textfmt.num(v, 2)
        return v

    vals = ", ".join(f"{k}={show(k, v)}" for k, v in f.values.items())
    when = f.to_dict()["bar_time"]
    mark = "" if f.new else " (já registrado)"
    print(f"{when}  {f.rule_name}  {f.ticker or '-'}  [{vals}]{mark}")
    print(f"    {f.message}")


def _cmd(args, ctx) -> int:
    from core.alerts import engine as E
    from core.alerts import rules as R

    store = ctx.store()
    act = args.action
    if act == "add":
        rule = R.add_rule(store, _rule_from_args(args))
        if args.json:
            print(dumps(rule.to_dict()))
        else:
            print(f"Alerta {rule.name!r} criado (#{rule.id}, {rule.kind}): {rule.describe()}.")
    elif act == "list":
        rules = R.list_rules(store)
        if args.json:
            print(dumps([r.to_dict() for r in rules]))
        elif not rules:
            print("Nenhum alerta cadastrado.")
        else:
            for r in rules:
                state = "ativo" if r.enabled else "pausado"
                tick = ",".join(r.tickers) or "-"
                print(
                    f"#{r.id:<4} {r.name:<32} {r.kind:<13} {tick:<16} {state:<8} "
                    f"carência {r.cooldown}  canais {','.join(r.channels)}  {r.describe()}"
                )
    elif act == "remove":
        rule = R.remove_rule(store, args.rule)
        print(dumps(rule.to_dict()) if args.json else f"Alerta {rule.name!r} removido.")
    elif act in ("pause", "resume"):
        rule = R.set_enabled(store, args.rule, act == "resume")
        word = "reativado" if act == "resume" else "pausado"
        print(dumps(rule.to_dict()) if args.json else f"Alerta {rule.name!r} {word}.")
    elif act == "run":
        from core.requests.parsing import parse_date

        start = parse_date(args.start, "--start")
        end = parse_date(args.end, "--end")
        rules = [R.get_rule(store, args.rule)] if args.rule else None
        firings = E.evaluate_range(
            store,
            start,
            end,
            rules=rules,
            tickers=_split(args.ticker) or None,
            persist=not args.dry_run,
            send=args.send,
            progress=progress_printer(quiet=args.json),
        )
        delivered = _deliver(store, ctx.settings) if args.send else None
        if args.json:
            print(dumps([f.to_dict() for f in firings]))
        else:
            for f in firings:
                _print_firing(f)
            new = sum(1 for f in firings if f.new)
            if args.dry_run:
                print(f"{len(firings)} disparos (simulação: nada foi gravado nem enviado).")
            else:
                print(f"{len(firings)} disparos ({new} novos).")
            if delivered is False:
                print("Algumas entregas seguem na fila: o app as envia quando estiver aberto.")
    elif act == "check":
        firings = E.evaluate_account_events(store)
        firings += E.check_data_health(store)
        if args.summary:
            firings += E.run_daily_summary(store)
        if any(f.new for f in firings):
            _deliver(store, ctx.settings)
        if args.json:
            print(dumps([f.to_dict() for f in firings]))
        else:
            for f in firings:
                _print_firing(f)
            new = sum(1 for f in firings if f.new)
            print(f"{len(firings)} disparos ({new} novos).")
    elif act == "history":
        firings = E.list_firings(store, rule=args.rule, limit=args.limit)
        if args.json:
            print(dumps([f.to_dict() for f in firings]))
        else:
            for f in firings:
                _print_firing(f)
    elif act == "test":
        return _test(store, ctx.settings, args)
    elif act == "deliveries":
        from core.alerts.dispatch import list_deliveries

        rows = list_deliveries(store, channel=args.channel, status=args.status, limit=args.limit)
        if args.json:
            print(dumps([_delivery_dict(d) for d in rows]))
        else:
            for d in rows:
                target = f" {d.target}" if d.target else ""
                what = "teste" if d.test else f"disparo #{d.firing_id} {d.rule_name}"
                err = f" — {d.last_error}" if d.last_error else ""
                print(f"#{d.id:<5} {d.channel}{target:<8} {d.status:<9} {d.attempts}x {what}{err}")
    elif act == "bot":
        return _bot(store, ctx.settings)
    return 0


def _delivery_dict(d) -> dict:
    return {
        "id": d.id,
        "firing_id": d.firing_id,
        "channel": d.channel,
        "target": d.target,
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "rule": d.rule_name,
        "ticker": d.ticker,
        "created_at": d.created_at.isoformat(),
        "sent_at": d.sent_at.isoformat() if d.sent_at is not None else None,
        "test": d.test,
    }


def _deliver(store, settings, timeout: float = 30.0) -> bool:
    """Deliver what ``run --send`` queued before the command exits (at most ``timeout`` s)."""
    from core.alerts import dispatch

    worker = dispatch.start_worker(store, settings.channel_config())
    try:
        return worker.drain(timeout)
    finally:
        dispatch.stop_worker(5)


def _test(store, settings, args) -> int:
    """``alerts test --channel C``: exit 0 when the service accepted the message, else 2."""
    from core.alerts.dispatch import send_test

    res = send_test(store, settings.channel_config(), args.channel)
    if args.json:
        print(
            dumps(
                {
                    "channel": args.channel,
                    "ok": res.ok,
                    "error": res.error,
                    "status_code": res.status_code,
                    "where": settings.channel_config().describe(args.channel),
                }
            )
        )
    elif res.ok:
        print(
            f"Teste enviado por {args.channel} ({settings.channel_config().describe(args.channel)})."
        )
    if not res.ok:
        if not args.json:
            from core.errors import PregaoError

            raise PregaoError(f"o teste por {args.channel} falhou: {res.error}")
        return 2
    return 0


def _bot(store, settings) -> int:
    import sys
    import time

    from core.alerts.bot import TelegramBot

    config = settings.channel_config()
    if not config.configured("telegram"):
        print(
            "Telegram não configurado: defina PREGAO_TELEGRAM_TOKEN e PREGAO_TELEGRAM_CHAT_ID.",
            file=sys.stderr,
        )
        return 2
    bot = TelegramBot(store, config).start()
    print(
        f"Bot do Telegram ativo para os chats {', '.join(config.telegram_chat_ids)} (Ctrl+C para sair)."
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        bot.stop()
    return 0


def register(sub, common) -> None:
    """Add ``alerts`` to the CLI."""
    p = sub.add_parser("alerts", parents=[common], help="alert rules, evaluation and history")
    p.set_defaults(func=_cmd)
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = acts.add_parser("add", help="create a rule")
    a.add_argument("--name", required=True, help="rule name (unique)")
    a.add_argument(
        "--kind",
        choices=("expr", "strategy", "model", "anomaly", "account", "daily_summary", "data_health"),
        default=None,
        help="rule kind (default expr; strategy when --strategy is given)",
    )
    a.add_argument("--ticker", nargs="+", action="extend", metavar="T", help="tickers watched")
    a.add_argument("--condition", metavar="EXPR", help='e.g. "crosses_above(close, sma(50))"')
    a.add_argument("--channels", default="inapp", help="inapp,telegram,discord,email,webhook")
    a.add_argument("--cooldown", type=int, default=0, metavar="BARS", help="bars between firings")
    a.add_argument("--severity", choices=("info", "warning", "critical"), default=None)
    a.add_argument("--strategy", help="strategy name (--kind strategy)")
    a.add_argument("--params", help="strategy parameters k=v,k2=v2")
    a.add_argument("--signals", help="entry_long,exit_long,entry_short,exit_short (default all)")
    a.add_argument("--direction", choices=("up", "down", "both"), default="both", help="model")
    a.add_argument("--contamination", type=float, default=0.02, help="anomaly: flagged fraction")
    a.add_argument("--min-severity", choices=("baixa", "média", "alta"), default="baixa")
    a.add_argument("--account", help="paper account (account/daily_summary; default all)")
    a.add_argument("--events", help="account events (default all): fill,stop,target,...")
    a.add_argument("--drawdown", help="account: alert when drawdown ≥ this %% (e.g. 5)")
    a.add_argument("--win", help="account: each trade closed with a return ≥ this %% (e.g. 3)")
    a.add_argument("--loss", help="account: each trade closed with a return ≤ −this %%")
    a.add_argument("--max-behind", type=int, default=1, help="data_health: sessions behind")
    a.add_argument("--json", action="store_true")

    lst = acts.add_parser("list", help="list the rules")
    lst.add_argument("--json", action="store_true")
    for name, hlp in (
        ("remove", "delete a rule (its history stays)"),
        ("pause", "pause a rule"),
        ("resume", "resume a paused rule"),
    ):
        x = acts.add_parser(name, help=hlp)
        x.add_argument("rule", metavar="NAME")
        x.add_argument("--json", action="store_true")

    r = acts.add_parser("run", help="evaluate the bar rules over stored bars; print every firing")
    r.add_argument("--start", help="first bar date (AAAA-MM-DD or DD/MM/AAAA)")
    r.add_argument("--end", help="last bar date")
    r.add_argument("--rule", metavar="NAME", help="only this rule")
    r.add_argument("--ticker", nargs="+", action="extend", metavar="T", help="only these tickers")
    r.add_argument("--dry-run", action="store_true", help="do not store the firings")
    r.add_argument("--send", action="store_true", help="also dispatch the new firings")
    r.add_argument("--json", action="store_true")

    c = acts.add_parser(
        "check", help="evaluate the account and data-health rules now (and the summary)"
    )
    c.add_argument("--summary", action="store_true", help="also the daily summary of today")
    c.add_argument("--json", action="store_true")

    h = acts.add_parser("history", help="stored firings, newest first")
    h.add_argument("--rule", metavar="NAME")
    h.add_argument("--limit", type=int, default=50)
    h.add_argument("--json", action="store_true")

    t = acts.add_parser("test", help="send a sample message through one channel now")
    t.add_argument(
        "--channel", required=True, choices=("inapp", "telegram", "discord", "email", "webhook")
    )
    t.add_argument("--json", action="store_true")

    d = acts.add_parser("deliveries", help="the delivery log, newest first")
    d.add_argument("--channel", choices=("telegram", "discord", "email", "webhook"))
    d.add_argument(
        "--status", choices=("pending", "sending", "retrying", "sent", "failed", "skipped")
    )
    d.add_argument("--limit", type=int, default=50)
    d.add_argument("--json", action="store_true")

    b = acts.add_parser("bot", help="run the Telegram bot in the foreground (team mode)")
    b.add_argument("--json", action="store_true")
