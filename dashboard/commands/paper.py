"""Paper trading: ``python -m dashboard paper <command>`` (issue 12).

Commands
--------
``create --name N --cash R$ [--costs b3|none] [--risk key=value,...] [--participation X]
[--no-fractional] [--short] [--day-trade]``, ``list``,
``order --account N --ticker T --side buy|sell --qty Q [--type market|limit|stop|stop_limit]
[--price P] [--stop P] [--stop-loss P] [--target P] [--tif day|gtc|YYYY-MM-DD]
[--client-id ID] [--fill next-bar|now]``, ``cancel --account N --order ID``,
``replace --account N --order ID [--qty Q] [--price P] [--stop P]``, ``fill --account N
--order ID`` (execute now at the last stored close), ``positions``, ``orders``, ``fills``,
``ledger``, ``events``, ``taxes`` (these take ``--account``), ``kill --account N
[--reason TEXT]``, ``unblock --account N``. Each accepts ``--json``.

``--stop`` is the trigger of a stop / stop-limit order; for a market or limit order with
``--target`` it is read as the bracket's protective stop (``--stop-loss`` says it
explicitly). ``--fill now`` executes at once at the last stored close plus slippage (for
manual trading without a running feed; labelled as such); by default an order waits for
the next bar of the feed.

JSON keys (a contract): positions ``ticker, qty, avg_price, last, market_value,
unrealized_pnl``; orders ``id, client_id, ticker, side, type, qty, filled_qty, price,
status, reason``; fills ``order_id, ticker, side, qty, price, fees, time``. Errors: one
line on stderr, exit status 2.
"""

from __future__ import annotations

from dashboard.cli import dumps

__all__ = ["register", "order_json", "position_json", "fill_json"]


def order_json(o) -> dict:
    """The contract's JSON of an order (plus a few extra keys after them)."""
    return {
        "id": o.id,
        "client_id": o.client_id,
        "ticker": o.ticker,
        "side": o.side,
        "type": o.type,
        "qty": o.qty,
        "filled_qty": o.filled_qty,
        "price": o.price,
        "status": o.status,
        "reason": o.reason,
        "stop_price": o.stop_price,
        "stop_loss": o.stop_loss,
        "target": o.target,
        "tif": o.tif,
        "role": o.role,
        "parent_id": o.parent_id,
        "avg_fill_price": o.avg_fill_price,
        "fees": o.fees,
        "created_at": o.created_at,
        "session": o.session,
        "source": o.source,
    }


def position_json(p) -> dict:
    """The contract's JSON of a position (plus ``realized_pnl``)."""
    return {
        "ticker": p.ticker,
        "qty": p.qty,
        "avg_price": p.avg_price,
        "last": p.last,
        "market_value": p.market_value,
        "unrealized_pnl": p.unrealized_pnl,
        "realized_pnl": p.realized_pnl,
    }


def fill_json(f) -> dict:
    """The contract's JSON of a fill (plus ``market_ticker`` and ``label``)."""
    return {
        "order_id": f.order_id,
        "ticker": f.ticker,
        "side": f.side,
        "qty": f.qty,
        "price": f.price,
        "fees": f.fees,
        "time": f.time,
        "market_ticker": f.market_ticker,
        "label": f.label,
    }


def _snapshot_json(s) -> dict:
    return {
        "name": s.name,
        "cash": s.cash,
        "cash_available": s.cash_available,
        "cash_projected": s.cash_projected,
        "buying_power": s.buying_power,
        "equity": s.equity,
        "gross_exposure": s.gross_exposure,
        "realized_pnl": s.realized_pnl,
        "unrealized_pnl": s.unrealized_pnl,
        "day_pnl": s.day_pnl,
        "peak_equity": s.peak_equity,
        "drawdown_pct": s.drawdown_pct,
        "blocked": s.blocked,
        "block_reason": s.block_reason,
    }


def _float(name: str, v):
    """A price or fraction: ``37.50`` or ``37,50`` (a dot is always decimal here: prices carry
    no thousands grouping, so ``10.005`` is refused later as off the tick, not read as
    10.005 thousand)."""
    from core.errors import InputError

    if v is None:
        return None
    t = str(v).strip().replace("R$", "").strip()
    if t.count(",") == 1:
        t = t.replace(".", "").replace(",", ".")
    try:
        return float(t)
    except ValueError:
        raise InputError(f"{name} inválido: {v!r} (use um número, ex.: 37.50 ou 37,50).") from None


def _qty(v):
    from core.errors import InputError

    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"Quantidade inválida {v!r}: use um número inteiro de ações.") from None
    if f != int(f):
        raise InputError(
            f"Quantidade {v} não é inteira: ações são negociadas em unidades inteiras."
        )
    return int(f)


def _broker(args, ctx):
    from core.trading.broker import PaperBroker

    return PaperBroker(ctx.store(), args.account)


# -- handlers ---------------------------------------------------------------------------
def _create(args, ctx) -> int:
    from dataclasses import replace

    from core.backtest.costs import cost_preset
    from core.backtest.engine import EngineConfig
    from core.backtest.sizing import Sizing
    from core.requests.parsing import parse_money
    from core.trading.accounts import create_account
    from core.trading.risk import RiskRules

    cash = parse_money(args.cash, "Capital inicial")
    risk = RiskRules.from_text(args.risk)
    engine = None
    if args.no_fractional or args.short or getattr(args, "day_trade", False):
        if cash is None or not cash > 0:
            from core.errors import InputError

            raise InputError(f"O capital inicial deve ser positivo (recebido {args.cash}).")
        engine = EngineConfig(
            cash=cash,
            costs=cost_preset(args.costs),
            sizing=replace(Sizing(), fractional=not args.no_fractional),
            allow_short=bool(args.short),
            day_trade=bool(getattr(args, "day_trade", False)),
        )
    acc = create_account(
        ctx.store(),
        args.name,
        cash,
        costs=args.costs,
        risk=risk,
        engine=engine,
        participation=_float("Participação", args.participation),
    )
    if args.json:
        print(dumps(_account_json(acc)))
    else:
        from core.textfmt import brl

        print(f"Conta {acc.name!r} criada com {brl(acc.initial_cash)} (custos {acc.costs}).")
    return 0


def _account_json(acc) -> dict:
    return {
        "name": acc.name,
        "owner": acc.owner,
        "initial_cash": acc.initial_cash,
        "costs": acc.costs,
        "risk": acc.risk.to_dict(),
        "participation": acc.participation,
        "fractional": acc.engine.sizing.fractional,
        "allow_short": acc.engine.allow_short,
        "blocked": acc.blocked,
        "block_reason": acc.block_reason,
        "created_at": acc.created_at,
    }


def _list(args, ctx) -> int:
    from core.trading.accounts import list_accounts
    from core.trading.broker import PaperBroker

    store = ctx.store()
    rows = []
    for acc in list_accounts(store):
        snap = PaperBroker(store, acc.name).account()
        rows.append({**_account_json(acc), **_snapshot_json(snap)})
    if args.json:
        print(dumps(rows))
        return 0
    from core.textfmt import brl, pct

    if not rows:
        print("Nenhuma conta. Crie uma com: python -m dashboard paper create --name N --cash R$")
    for r in rows:
        flag = " [BLOQUEADA]" if r["blocked"] else ""
        print(
            f"{r['name']}: patrimônio {brl(r['equity'])}, caixa {brl(r['cash'])}, "
            f"drawdown {pct(r['drawdown_pct'])}{flag}"
        )
    return 0


def _order(args, ctx) -> int:
    from core.trading.broker import OrderRequest

    b = _broker(args, ctx)
    typ = (args.type or "market").lower()
    stop_price = _float("Preço de disparo", args.stop)
    stop_loss = _float("Stop-loss", args.stop_loss)
    if typ in ("market", "limit") and stop_price is not None and stop_loss is None:
        stop_loss, stop_price = stop_price, None  # --stop on a market/limit order: bracket stop
    req = OrderRequest(
        account=b.name,
        ticker=args.ticker,
        side=args.side,
        qty=_qty(args.qty),
        type=typ,
        price=_float("Preço", args.price),
        stop_price=stop_price,
        stop_loss=stop_loss,
        target=_float("Alvo", args.target),
        tif=args.tif or "day",
        client_id=args.client_id,
        source="manual",
        note=args.note or "",
    )
    o = b.submit(req)
    fills = []
    if args.fill == "now" and o.status in ("aceita", "parcial"):
        fills = b.fill_at_last(o.id)
        o = b.order(o.id)
    if args.json:
        out = order_json(o)
        out["fills"] = [fill_json(f) for f in fills]
        print(dumps(out))
        return 0
    print(_order_line(o))
    for f in fills:
        print("  " + _fill_line(f))
    if args.fill != "now" and o.status == "aceita":
        print("  Executa na próxima barra do feed (ou agora ao último fechamento: --fill now).")
    elif args.fill == "now" and not fills and o.status == "aceita":
        print("  Não executável ao último fechamento: a ordem continua aberta.")
    return 0


def _order_line(o) -> str:
    from core.textfmt import brl, date, integer
    from core.trading.records import TYPE_PT

    side = {"buy": "compra", "sell": "venda"}[o.side]
    px = f" a {brl(o.price)}" if o.price is not None else ""
    st = f" disparo {brl(o.stop_price)}" if o.stop_price is not None else ""
    br = ""
    if o.stop_loss is not None or o.target is not None:
        br = f" [stop {brl(o.stop_loss)}, alvo {brl(o.target)}]"
    done = f" ({integer(o.filled_qty)}/{integer(o.qty)})" if o.filled_qty else ""
    why = f" — {o.reason}" if o.reason else ""
    kind = TYPE_PT.get(o.type, o.type)
    role = {"stop": " [perna stop]", "target": " [perna alvo]"}.get(o.role, "")
    tif = {"day": "dia", "gtc": "até cancelar"}.get(o.tif) or f"até {date(o.tif)}"
    avg = f", médio {brl(o.avg_fill_price, 4)}" if o.avg_fill_price else ""
    return (
        f"#{o.id} {o.status}{done}: {side} {integer(o.qty)} {o.ticker} {kind}{px}{st}{br}{role}"
        f" validade {tif}{avg}{why}"
    )


def _fill_line(f) -> str:
    from core.textfmt import brl, datetime, integer

    side = {"buy": "compra", "sell": "venda"}[f.side]
    lab = f" ({f.label})" if f.label else ""
    return (
        f"{datetime(f.time)} {side} {integer(f.qty)} {f.market_ticker or f.ticker} a "
        f"{brl(f.price, 4)}, custos {brl(f.fees)} — ordem #{f.order_id}{lab}"
    )


def _cancel(args, ctx) -> int:
    o = _broker(args, ctx).cancel(args.order)
    print(dumps(order_json(o)) if args.json else _order_line(o))
    return 0


def _replace(args, ctx) -> int:
    o = _broker(args, ctx).replace(
        args.order,
        qty=None if args.qty is None else _qty(args.qty),
        price=_float("Preço", args.price),
        stop_price=_float("Preço de disparo", args.stop),
    )
    print(dumps(order_json(o)) if args.json else _order_line(o))
    return 0


def _fill(args, ctx) -> int:
    b = _broker(args, ctx)
    fills = b.fill_at_last(args.order)
    if args.json:
        print(dumps([fill_json(f) for f in fills]))
    elif not fills:
        print(f"Ordem #{args.order} não executável ao último fechamento: continua aberta.")
    else:
        for f in fills:
            print(_fill_line(f))
    return 0


def _positions(args, ctx) -> int:
    b = _broker(args, ctx)
    pos = b.positions()
    if args.json:
        print(dumps([position_json(p) for p in pos]))
        return 0
    from core.textfmt import brl, integer

    snap = b.account()
    print(
        f"Conta {b.name}: patrimônio {brl(snap.equity)}, caixa projetado {brl(snap.cash_projected)}, "
        f"disponível {brl(snap.cash_available)}"
    )
    if not pos:
        print("Nenhuma posição aberta.")
    for p in pos:
        print(
            f"{p.ticker}: {integer(p.qty)} ações, preço médio {brl(p.avg_price, 4)}, "
            f"último {brl(p.last)}, valor {brl(p.market_value)}, "
            f"resultado aberto {brl(p.unrealized_pnl, sign=True)}"
        )
    return 0


def _orders(args, ctx) -> int:
    orders = _broker(args, ctx).orders(args.status)
    if args.json:
        print(dumps([order_json(o) for o in orders]))
        return 0
    if not orders:
        print("Nenhuma ordem.")
    for o in orders:
        print(_order_line(o))
    return 0


def _fills(args, ctx) -> int:
    fills = _broker(args, ctx).fills()
    if args.json:
        print(dumps([fill_json(f) for f in fills]))
        return 0
    if not fills:
        print("Nenhuma execução.")
    for f in fills:
        print(_fill_line(f))
    return 0


def _ledger(args, ctx) -> int:
    rows = _broker(args, ctx).ledger()
    if args.json:
        print(
            dumps(
                [
                    {
                        "id": r.id,
                        "time": r.time,
                        "settle_date": r.settle_date,
                        "kind": r.kind,
                        "ticker": r.ticker,
                        "amount": r.amount,
                        "balance": r.balance,
                        "order_id": r.order_id,
                        "description": r.description,
                    }
                    for r in rows
                ]
            )
        )
        return 0
    from core.textfmt import brl, date, datetime

    for r in rows:
        print(
            f"{datetime(r.time)} liq. {date(r.settle_date)} {r.kind:<8} {brl(r.amount, sign=True):>16} "
            f"saldo {brl(r.balance)} — {r.description}"
        )
    return 0


def _events(args, ctx) -> int:
    from core.trading.events import list_events

    evs = list_events(ctx.store(), args.account, since_id=args.since)
    if args.json:
        print(
            dumps(
                [
                    {
                        "id": e.id,
                        "account": e.account,
                        "time": e.time,
                        "kind": e.kind,
                        "ticker": e.ticker,
                        "values": e.values,
                        "message": e.message,
                    }
                    for e in evs
                ]
            )
        )
        return 0
    from core.textfmt import datetime

    for e in evs:
        print(f"#{e.id} {datetime(e.time)} {e.kind}: {e.message}")
    return 0


def _taxes(args, ctx) -> int:
    rep = _broker(args, ctx).tax_report()
    if args.json:
        recs = rep.assign(month=rep["month"].astype(str)).to_dict(orient="records")
        print(dumps(recs))
        return 0
    from core.textfmt import brl

    if rep.empty:
        print("Nenhuma operação encerrada: nada a apurar.")
    for r in rep.itertuples(index=False):
        print(
            f"{r.month.strftime('%m/%Y')}: vendas {brl(r.swing_sales)}, resultado comum "
            f"{brl(r.swing_result)}{' (isento)' if r.swing_exempt else ''}, day trade "
            f"{brl(r.day_trade_result)}, IRRF {brl(r.withheld)}, DARF {brl(r.darf)}"
        )
    return 0


def _kill(args, ctx) -> int:
    from core.trading.risk import kill_switch

    orders = kill_switch(ctx.store(), args.account, args.reason or "")
    if args.json:
        print(dumps([order_json(o) for o in orders]))
    else:
        print(f"Kill switch acionado na conta {args.account!r}: posições zeradas, conta bloqueada.")
        for o in orders:
            print("  " + _order_line(o))
    return 0


def _unblock(args, ctx) -> int:
    from core.trading.risk import unblock

    unblock(ctx.store(), args.account)
    print(
        dumps({"account": args.account, "blocked": False}) if args.json else "Conta desbloqueada."
    )
    return 0


# -- parser -----------------------------------------------------------------------------
def register(sub, common) -> None:
    """Add ``paper`` and its subcommands to the CLI (the replay engineer's ``run``,
    ``report`` and ``export-ml`` register on the same ``paper`` parser)."""
    p = sub.add_parser("paper", parents=[common], help="paper trading (simulated accounts)")
    ps = p.add_subparsers(dest="paper_command", metavar="SUBCOMMAND", required=True)

    def add(name, func, help_, account=True):
        q = ps.add_parser(name, parents=[common], help=help_)
        if account:
            q.add_argument("--account", required=True, metavar="N", help="account name")
        q.add_argument("--json", action="store_true", help="print JSON")
        q.set_defaults(func=func)
        return q

    q = add("create", _create, "create an account", account=False)
    q.add_argument("--name", required=True)
    q.add_argument("--cash", required=True, metavar="R$")
    q.add_argument("--costs", default="b3", choices=["b3", "none"])
    q.add_argument("--risk", default="", metavar="key=value,...", help="risk rules")
    q.add_argument("--participation", metavar="X", help="max fraction of a bar's volume")
    q.add_argument("--no-fractional", action="store_true", help="round lots only")
    q.add_argument("--short", action="store_true", help="allow short selling")
    q.add_argument(
        "--day-trade",
        action="store_true",
        help="day-trade account: futures (WINFUT) need the day-trade margin per contract",
    )

    add("list", _list, "list accounts", account=False)

    q = add("order", _order, "send an order")
    q.add_argument("--ticker", required=True)
    q.add_argument("--side", required=True, help="buy|sell")
    q.add_argument("--qty", required=True, metavar="Q")
    q.add_argument("--type", default="market", help="market|limit|stop|stop_limit")
    q.add_argument("--price", metavar="P", help="limit price")
    q.add_argument("--stop", metavar="P", help="trigger (stop orders) or bracket stop")
    q.add_argument("--stop-loss", metavar="P", help="bracket protective stop")
    q.add_argument("--target", metavar="P", help="bracket target")
    q.add_argument("--tif", default="day", metavar="day|gtc|YYYY-MM-DD")
    q.add_argument("--client-id", metavar="ID")
    q.add_argument("--note", default="")
    q.add_argument("--fill", default="next-bar", choices=["next-bar", "now"])

    q = add("cancel", _cancel, "cancel an order")
    q.add_argument("--order", required=True, metavar="ID")
    q = add("replace", _replace, "modify an open order")
    q.add_argument("--order", required=True, metavar="ID")
    q.add_argument("--qty", metavar="Q")
    q.add_argument("--price", metavar="P")
    q.add_argument("--stop", metavar="P")
    q = add("fill", _fill, "execute an open order now at the last stored close")
    q.add_argument("--order", required=True, metavar="ID")

    add("positions", _positions, "open positions")
    q = add("orders", _orders, "orders")
    q.add_argument("--status", default=None, help="open or a status")
    add("fills", _fills, "executions")
    add("ledger", _ledger, "cash ledger")
    q = add("events", _events, "account events (fills, stops, rejections, limits)")
    q.add_argument("--since", type=int, default=0, metavar="ID")
    add("taxes", _taxes, "monthly IR/DARF report")
    q = add("kill", _kill, "kill switch: flatten and block")
    q.add_argument("--reason", default="")
    add("unblock", _unblock, "lift the kill-switch block")

    from dashboard.commands.paper_auto import add_commands

    add_commands(ps, common)  # run, report, export-ml, signals (automation)
