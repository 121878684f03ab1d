"""Store commands: ``init``, ``instruments`` and ``bars``."""

from __future__ import annotations

import sys

from core.errors import InputError
from dashboard.cli import dumps, progress_printer


def _date(s: str | None):
    import pandas as pd

    if s is None:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(s, format="%Y-%m-%d"))
    except (ValueError, TypeError) as exc:
        raise InputError(f"Data inválida {s!r}: use AAAA-MM-DD.") from exc


def cmd_init(args, ctx) -> int:
    """Create/upgrade the database and load the bundled data if it is empty (the only
    command that creates a database)."""
    from core.data.bundled import load_bundled

    store = ctx.store(load_data=False, create=True)
    report = load_bundled(store, progress=progress_printer())
    if report.loaded:
        print(
            f"Banco {store.url} criado/atualizado; dados embutidos carregados: "
            f"{report.instruments} instrumentos, {report.bars} barras, {report.rates} dias de CDI "
            f"em {report.seconds:.1f} s."
        )
    else:
        print(f"Banco {store.url} atualizado; já contém dados (nada carregado).")
    if getattr(args, "admin", None):  # team mode's first admin (password from prompt/stdin)
        from dashboard.commands.users import create_user

        create_user(store, args.admin, "admin")
    return 0


def cmd_instruments(args, ctx) -> int:
    """List stored instruments with their coverage."""
    import pandas as pd

    df = ctx.store().instruments()
    if args.json:
        recs = [
            {
                "ticker": r.ticker,
                "name": r.name,
                "kind": r.kind,
                "lot_size": int(r.lot_size),
                "currency": r.currency,
                "first_date": None if pd.isna(r.first_date) else r.first_date.strftime("%Y-%m-%d"),
                "last_date": None if pd.isna(r.last_date) else r.last_date.strftime("%Y-%m-%d"),
                "bars": int(r.n_bars),
            }
            for r in df.itertuples(index=False)
        ]
        print(dumps(recs))
    else:
        out = df.assign(
            first_date=df["first_date"].dt.strftime("%Y-%m-%d"),
            last_date=df["last_date"].dt.strftime("%Y-%m-%d"),
        )
        print(out.to_string(index=False))
    return 0


def cmd_bars(args, ctx) -> int:
    """Print the bars of one ticker (daily unless ``--interval``) as CSV or JSON."""
    start, end = _date(args.start), _date(args.end)
    if start is not None and end is not None and start > end:
        raise InputError(f"Intervalo invertido: --start {args.start} é depois de --end {args.end}.")
    from core.data.intraday import is_intraday, normalize_interval
    from core.data.resample import bars_at

    interval = normalize_interval(args.interval)
    bars = bars_at(ctx.store(), args.ticker, interval, start, end)
    if args.adjusted:
        # Scale OHLC by adj_close / close so the whole candle is dividend-adjusted.
        factor = bars["adj_close"] / bars["close"]
        for c in ("open", "high", "low", "close"):
            bars[c] = bars[c] * factor
    out = bars.reset_index()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d %H:%M" if is_intraday(interval) else "%Y-%m-%d")
    if args.format == "json":
        print(dumps(out.to_dict(orient="records")))
    else:
        out.to_csv(sys.stdout, index=False, float_format="%.6f", lineterminator="\n")
    return 0


def register(sub, common) -> None:
    """Add ``init``, ``instruments`` and ``bars`` to the CLI."""
    p = sub.add_parser(
        "init", parents=[common], help="create/upgrade the database, load bundled data"
    )
    p.add_argument(
        "--admin", metavar="NAME", help="also create the first admin user (password: prompt/stdin)"
    )
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("instruments", parents=[common], help="list instruments and coverage")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_instruments)

    p = sub.add_parser("bars", parents=[common], help="print daily bars of a ticker")
    p.add_argument("ticker")
    p.add_argument("--start", metavar="YYYY-MM-DD")
    p.add_argument("--end", metavar="YYYY-MM-DD")
    p.add_argument(
        "--adjusted", action="store_true", help="dividend-adjusted OHLC (adj_close basis)"
    )
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument(
        "--interval",
        default="1d",
        metavar="1min|5min|15min|30min|60min|1d|1w|1mo",
        help="bar interval (default 1d); coarser ones are resampled inside sessions",
    )
    p.set_defaults(func=cmd_bars)
