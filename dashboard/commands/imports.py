"""Data commands: ``import``, ``update`` and ``quality`` (issue 3).

``python -m dashboard import PATH... [--format auto|cotahist|yahoo|investing|profit|csv] [--json]``
    prints ``{"files", "instruments", "inserted", "updated", "rejected", "errors": [{"file",
    "line", "reason"}]}`` with ``--json``; exit status 0, or 2 when any file failed (then
    nothing was written).
``python -m dashboard update [--source yahoo|mt5] [TICKER...]``
    fetches what is missing since each ticker's last stored date (exit 2 when offline).
``python -m dashboard quality [TICKER...] [--json]``
    per-instrument coverage, gaps, zero-volume bars, OHLC violations and suspicious jumps.
``python -m dashboard priority TICKER [SOURCE...] [--reset]``
    show or set which source wins when two have a bar on the same date (best first).
"""

from __future__ import annotations

import sys

import pandas as pd

from core.data.imports import (
    DEFAULT_PRIORITY,
    FORMATS,
    import_files,
    set_source_priority,
    source_priority,
    update_prices,
)
from core.data.quality import quality_report
from dashboard.cli import dumps, progress_printer


def _split(text: str | None) -> list[str] | None:
    """``"PETR4, vale3"`` -> ``["PETR4", "VALE3"]`` (None when empty)."""
    items = [t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip()]
    return items or None


def cmd_import(args, ctx) -> int:
    """Import files into the store in one transaction."""
    from dashboard.uploads import refuse_data_dir_paths

    refuse_data_dir_paths(args.paths, ctx.settings)  # issue 11: never read the live database
    store = ctx.store()
    mapping = None
    if args.format == "csv":
        mapping = {
            k: getattr(args, f"map_{k}")
            for k in ("date", "open", "high", "low", "close", "adj_close", "volume", "ticker")
        }
        mapping.update(
            sep=args.sep, decimal=args.decimal, dayfirst=args.dayfirst, date_format=args.date_format
        )
        mapping = {k: v for k, v in mapping.items() if v not in (None, "")}
        mapping.setdefault("date", "date")
        mapping.setdefault("close", "close")
    rep = import_files(
        store,
        args.paths,
        args.format,
        ticker=args.ticker,
        mapping=mapping,
        include_fractional=args.fractional,
        progress=progress_printer(quiet=args.json),
        strict=args.strict,
        tickers=_split(args.tickers),
        kinds=_split(args.kinds),
        everything=args.all,
    )
    if args.json:
        print(dumps(rep.summary()))
    elif rep.errors:  # one line per failed file, on stderr, each said once
        for e in rep.errors:
            where = e["file"] + (f", linha {e['line']}" if e.get("line") else "")
            print(f"Nada foi gravado. {where}: {e['reason']}", file=sys.stderr)
    else:
        print(rep.message())
        for reason, n in rep.reasons.items():
            print(f"  rejeitadas ({reason}): {n}")
    return 2 if rep.errors else 0


def cmd_update(args, ctx) -> int:
    """Fetch new bars from an online source."""
    rep = update_prices(ctx.store(), args.source, args.tickers or None, progress=progress_printer())
    if args.json:
        print(dumps(rep.summary()))
    else:
        print(rep.message() if rep.files else "Tudo atualizado: nada a buscar.")
    return 2 if rep.errors else 0


def _fmt_date(d) -> str | None:
    return None if d is None or pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


def cmd_quality(args, ctx) -> int:
    """Print the data-quality report."""
    q = quality_report(ctx.store(), args.tickers or None)
    if args.json:
        recs = []
        for r in q.to_dict(orient="records"):
            r["first_date"], r["last_date"] = _fmt_date(r["first_date"]), _fmt_date(r["last_date"])
            r["coverage"] = None if pd.isna(r["coverage"]) else round(float(r["coverage"]), 6)
            recs.append(r)
        print(dumps(recs))
    else:
        out = q.drop(columns=["name"]).assign(
            first_date=q["first_date"].dt.strftime("%Y-%m-%d"),
            last_date=q["last_date"].dt.strftime("%Y-%m-%d"),
            coverage=(q["coverage"] * 100).round(1).astype(str) + "%",
            flags=q["flags"].map(lambda f: "; ".join(f) or "ok"),
        )
        print(out.to_string(index=False))
    return 0


def cmd_priority(args, ctx) -> int:
    """Show or set which source wins for one instrument."""
    store = ctx.store()
    if args.reset:
        set_source_priority(store, args.ticker, None)
    elif args.sources:
        set_source_priority(store, args.ticker, args.sources)
    print(" > ".join(source_priority(store, args.ticker)))
    return 0


def register(sub, common) -> None:
    """Add ``import``, ``update`` and ``quality`` to the CLI."""
    p = sub.add_parser(
        "import", parents=[common], help="import COTAHIST/CSV files (all or nothing)"
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--format", choices=FORMATS, default="auto")
    p.add_argument("--json", action="store_true", help="print the JSON summary")
    p.add_argument("--ticker", help="ticker for CSV files that do not name one")
    p.add_argument(
        "--fractional",
        action="store_true",
        help="COTAHIST: also import the fractional market (PETR4F ...)",
    )
    p.add_argument(
        "--tickers",
        metavar="T1,T2",
        help="whole-market files (COTAHIST): also add these tickers (default: only the "
        "instruments already followed)",
    )
    p.add_argument(
        "--kinds",
        metavar="K1,K2",
        help="whole-market files: also add these kinds (stock, etf, fii, bdr, index, fund, "
        "future, option, other)",
    )
    p.add_argument(
        "--all",
        "--todos",
        dest="all",
        action="store_true",
        help="whole-market files: add every instrument of the file",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on any non-session row, even a vendor placeholder (all or nothing)",
    )
    g = p.add_argument_group("generic CSV (--format csv): column names")
    for k in ("date", "open", "high", "low", "close", "adj_close", "volume", "ticker"):
        g.add_argument(f"--map-{k.replace('_', '-')}", dest=f"map_{k}", metavar="COLUMN")
    g.add_argument("--sep", help="delimiter (default: sniffed)")
    g.add_argument("--decimal", default=".", choices=[".", ","])
    g.add_argument("--dayfirst", action="store_true", help="dates like 25/06/2021")
    g.add_argument("--date-format", help="strptime format, e.g. %%d/%%m/%%Y")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("update", parents=[common], help="fetch new bars (yahoo or mt5)")
    p.add_argument("tickers", nargs="*", metavar="TICKER")
    p.add_argument("--source", choices=["yahoo", "mt5"], default="yahoo")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser(
        "priority",
        parents=[common],
        help="show/set the source order of one instrument (best first)",
    )
    p.add_argument("ticker")
    p.add_argument("sources", nargs="*", metavar="SOURCE", help=" ".join(DEFAULT_PRIORITY))
    p.add_argument("--reset", action="store_true", help="back to the default order")
    p.set_defaults(func=cmd_priority)

    p = sub.add_parser("quality", parents=[common], help="data-quality report per instrument")
    p.add_argument("tickers", nargs="*", metavar="TICKER")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_quality)
