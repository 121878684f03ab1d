"""Stored backtest runs: save a result with everything needed to trust it later, reopen it.

A run keeps the strategy and its parameters, the tickers and the trading window, the engine
configuration (cash, costs, sizing, stops), the code version (``git describe`` of the
checkout, else the package version), the metrics, the daily equity and benchmark curves
and every trade. Reopening rebuilds a :class:`core.backtest.runner.BacktestResult`
(monthly returns and the tax report are recomputed from the stored curve and trades).

Ownership (:mod:`core.ownership`): a run is stamped with its author in team mode (NULL = the
team's). Readers take ``owner`` as the filter (None = all; a user name = own and team runs),
and another user's run is "not found" by id, exactly like a missing one.
"""

from __future__ import annotations

import functools
import math
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from core.backtest.engine import TRADE_COLUMNS, EngineConfig
from core.backtest.metrics import drawdown, monthly_returns
from core.backtest.models import BacktestRun, BacktestTrade
from core.backtest.runner import BacktestResult
from core.backtest.taxes import tax_report
from core.data.store import Store
from core.errors import InputError, StoreError
from core.ownership import check_owner, owned, visible

__all__ = ["code_version", "save_run", "list_runs", "load_run", "delete_run", "count_runs"]

_ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``git describe --always --dirty --tags`` of the checkout, else the package version."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        v = out.stdout.strip()
        if v:
            return f"git:{v}"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return f"pregao {metadata.version('pregao')}"
    except metadata.PackageNotFoundError:
        return "desconhecida"


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (np.bool_, bool)):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        f = float(o)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(o, pd.Timestamp):
        return o.strftime("%Y-%m-%d")
    return o


def _floats(values) -> list:
    return [
        None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values
    ]


def save_run(
    store: Store,
    result: BacktestResult,
    name: str = "",
    *,
    kind: str = "backtest",
    extra: dict | None = None,
    owner: str | None = None,
) -> int:
    """Store ``result`` (and its trades) in one transaction; sets ``result.run_id``.

    Parameters
    ----------
    store : Store
    result : BacktestResult
    name : str
        Label (default: strategy and tickers).
    kind : {"backtest", "walk_forward"}
    extra : dict, optional
        JSON-ready extras kept with the run.
    owner : str, optional
        The author (team mode); None = a team run.

    Returns
    -------
    int
        The new run id.

    Raises
    ------
    StoreError
        When the database refuses the write.
    InputError
        A malformed ``owner``.
    """
    owner = check_owner(owner)
    idx = result.equity.index
    intraday = getattr(result, "interval", "1d") != "1d"
    curves = {
        # intraday runs keep the bar's opening minute
        "dates": [d.strftime("%Y-%m-%d %H:%M" if intraday else "%Y-%m-%d") for d in idx],
        "equity": _floats(result.equity.to_numpy()),
        "exposure": _floats(result.exposure.reindex(idx).to_numpy()),
    }
    for col in result.benchmarks.columns:
        curves[col] = _floats(result.benchmarks[col].to_numpy())
    if result.after_tax_equity is not None:
        curves["equity_after_tax"] = _floats(result.after_tax_equity.reindex(idx).to_numpy())
    run = BacktestRun(
        name=name
        or f"{result.strategy} · {', '.join(result.tickers)}"
        + (" · walk-forward (fora da amostra)" if kind == "walk_forward" else ""),
        kind=kind,
        strategy=result.strategy,
        params=_clean(result.params),
        tickers=list(result.tickers),
        start=result.start.to_pydatetime(),
        end=result.end.to_pydatetime(),
        config=_clean(result.config.to_dict()),
        adjusted=bool(result.adjusted),
        code_version=code_version(),
        metrics=_clean(result.metrics),
        curves=curves,
        extra=_clean(
            {"interval": getattr(result, "interval", "1d")} | (extra or result.extra or {})
        ),
        owner=owner,
    )
    try:
        from sqlalchemy.orm import Session

        with Session(store.engine) as s, s.begin():
            s.add(run)
            s.flush()
            rid = int(run.id)
            rows = [
                {
                    "run_id": rid,
                    "ticker": t.ticker,
                    "direction": t.direction,
                    "entry_date": pd.Timestamp(t.entry_date).to_pydatetime(),
                    "entry_price": float(t.entry_price),
                    "exit_date": pd.Timestamp(t.exit_date).to_pydatetime(),
                    "exit_price": float(t.exit_price),
                    "shares": int(t.shares),
                    "fees": float(t.fees),
                    "borrow": float(t.borrow),
                    "pnl": float(t.pnl),
                    "bars_held": int(t.bars_held),
                    "day_trade": bool(t.day_trade),
                    "exit_reason": str(t.exit_reason),
                    "stop_at_entry": None if pd.isna(t.stop_at_entry) else float(t.stop_at_entry),
                    "proventos": float(getattr(t, "proventos", 0.0)),
                    "day_trade_qty": int(getattr(t, "day_trade_qty", 0)),
                    "day_trade_pnl": float(getattr(t, "day_trade_pnl", 0.0)),
                    "swing_pnl": float(getattr(t, "swing_pnl", 0.0)),
                    "sale_value": float(getattr(t, "sale_value", 0.0)),
                    "day_trade_sale_value": float(getattr(t, "day_trade_sale_value", 0.0)),
                }
                for t in result.trades.itertuples(index=False)
            ]
            if rows:
                s.execute(BacktestTrade.__table__.insert(), rows)
    except SQLAlchemyError as exc:
        raise StoreError(f"Não foi possível salvar o backtest: {exc.__class__.__name__}.") from exc
    result.run_id = rid
    return rid


def _old_reading(tr: pd.DataFrame) -> None:
    """Fill the 0007 columns of trades stored before them (whole trade swing or day trade)."""
    dt = tr["day_trade"].astype(bool).to_numpy()
    long = (tr["direction"] == "compra").to_numpy()
    sale = np.where(long, tr["exit_value"], tr["entry_value"])
    defaults = {
        "proventos": np.zeros(len(tr)),
        "day_trade_qty": np.where(dt, tr["shares"], 0),
        "day_trade_pnl": np.where(dt, tr["pnl"], 0.0),
        "swing_pnl": np.where(dt, 0.0, tr["pnl"]),
        "sale_value": sale,
        "day_trade_sale_value": np.where(dt, sale, 0.0),
    }
    for c, v in defaults.items():
        if c not in tr.columns:
            tr[c] = v
        else:
            tr[c] = tr[c].astype("float64").fillna(pd.Series(v, index=tr.index))
    tr["day_trade_qty"] = tr["day_trade_qty"].astype("int64")


def list_runs(store: Store, limit: int = 200, *, owner: str | None = None) -> pd.DataFrame:
    """Stored runs ``owner`` may see, newest first.

    Parameters
    ----------
    store : Store
    limit : int
        Most rows returned.
    owner : str, optional
        None = every run; a user name = that user's and the team's runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, created_at, name, kind, strategy, tickers (str), start, end,
        total_return_pct, sharpe, max_drawdown_pct, n_trades, code_version, owner``.
    """
    r = BacktestRun
    q = (
        select(
            r.id,
            r.created_at,
            r.name,
            r.kind,
            r.strategy,
            r.tickers,
            r.start,
            r.end,
            r.metrics,
            r.code_version,
            r.owner,
        )
        .where(visible(r.owner, owner))
        .order_by(r.id.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    recs = []
    for row in rows:
        m = row.metrics or {}
        recs.append(
            {
                "id": int(row.id),
                "created_at": pd.Timestamp(row.created_at),
                "name": row.name,
                "kind": row.kind,
                "strategy": row.strategy,
                "tickers": ", ".join(row.tickers),
                "start": pd.Timestamp(row.start),
                "end": pd.Timestamp(row.end),
                "total_return_pct": m.get("total_return_pct"),
                "sharpe": m.get("sharpe"),
                "max_drawdown_pct": m.get("max_drawdown_pct"),
                "n_trades": m.get("n_trades"),
                "code_version": row.code_version,
                "owner": row.owner,
            }
        )
    cols = [
        "id",
        "created_at",
        "name",
        "kind",
        "strategy",
        "tickers",
        "start",
        "end",
        "total_return_pct",
        "sharpe",
        "max_drawdown_pct",
        "n_trades",
        "code_version",
        "owner",
    ]
    return pd.DataFrame(recs, columns=cols)


def _nan(v):
    return math.nan if v is None else v


def load_run(store: Store, run_id: int, *, owner: str | None = None) -> BacktestResult:
    """Reopen a stored run that ``owner`` may see.

    Parameters
    ----------
    store : Store
    run_id : int
    owner : str, optional
        None = any run; a user name = that user's or a team run.

    Raises
    ------
    InputError
        When no visible run has that id (another user's run answers the same message as a
        missing one).
    """
    with store.engine.connect() as conn:
        row = conn.execute(
            select(BacktestRun.__table__).where(
                BacktestRun.id == int(run_id), visible(BacktestRun.owner, owner)
            )
        ).first()
        if row is None:
            raise InputError(f"Backtest nº {run_id} não encontrado.")
        trows = conn.execute(
            select(BacktestTrade.__table__)
            .where(BacktestTrade.run_id == int(run_id))
            .order_by(BacktestTrade.id)
        ).all()
    cv = row.curves
    idx = pd.DatetimeIndex(pd.to_datetime(cv["dates"]), name="date")

    def curve(name):
        return pd.Series(
            [_nan(v) for v in cv.get(name, [None] * len(idx))],
            index=idx,
            dtype="float64",
            name=name,
        )

    equity = curve("equity")
    bench = pd.DataFrame({c: curve(c) for c in ("buy_hold", "bvsp", "cdi") if c in cv})
    config = EngineConfig.from_dict(row.config)
    lot = config.sizing.lot_size
    tr = pd.DataFrame([dict(t._mapping) for t in trows])
    if len(tr):
        tr["entry_date"] = pd.to_datetime(tr["entry_date"])
        tr["exit_date"] = pd.to_datetime(tr["exit_date"])
        # futures trades are stored in points: R$ values = points × point value × contracts
        pv = tr["ticker"].map(_point_values(row.tickers)).fillna(1.0).to_numpy(dtype="float64")
        tr["entry_value"] = tr["shares"] * tr["entry_price"] * pv
        tr["exit_value"] = tr["shares"] * tr["exit_price"] * pv
        tr["return_pct"] = 100.0 * tr["pnl"] / tr["entry_value"]
        tr["round_lot_shares"] = (tr["shares"] // lot) * lot
        tr["fractional_shares"] = tr["shares"] - tr["round_lot_shares"]
        tr["stop_at_entry"] = tr["stop_at_entry"].astype("float64")
        _old_reading(tr)
        tr = tr[list(TRADE_COLUMNS)]
    else:
        tr = pd.DataFrame(columns=list(TRADE_COLUMNS))
    if len(tr):
        tr["qty"] = tr["shares"].astype("int64")
        d = np.where(tr["direction"].to_numpy() == "compra", 1.0, -1.0)
        tr["points"] = np.where(
            pv != 1.0, d * (tr["exit_price"] - tr["entry_price"]).to_numpy(), np.nan
        )
    kinds = {}
    for t in row.tickers:
        try:
            kinds[t] = str(store.instrument(t).get("kind") or "stock")
        except Exception:  # noqa: BLE001 - an instrument deleted since: taxed as a stock
            kinds[t] = "stock"
    metrics = {k: _nan(v) for k, v in (row.metrics or {}).items()}
    res = BacktestResult(
        strategy=row.strategy,
        params=dict(row.params),
        tickers=list(row.tickers),
        start=pd.Timestamp(row.start),
        end=pd.Timestamp(row.end),
        config=config,
        equity=equity,
        benchmarks=bench,
        drawdown=drawdown(equity),
        exposure=curve("exposure"),
        trades=tr,
        metrics=metrics,
        monthly=monthly_returns(equity, start=pd.Timestamp(row.start)),
        taxes=tax_report(tr, kinds=kinds),
        adjusted=bool(row.adjusted),
        after_tax_equity=curve("equity_after_tax") if "equity_after_tax" in cv else None,
        run_id=int(row.id),
        interval=str((row.extra or {}).get("interval") or "1d"),
        extra=dict(row.extra or {})
        | {
            "code_version": row.code_version,
            "name": row.name,
            "created_at": str(row.created_at),
            "kind": row.kind,
            "owner": row.owner,
        },
    )
    return res


def _point_values(tickers) -> dict[str, float]:
    """R$ per point of the futures among ``tickers`` (stored futures trades are in points)."""
    from core.data.futures import futures_spec, is_future_ticker

    return {t: futures_spec(t).point_value for t in tickers if is_future_ticker(t)}


def delete_run(store: Store, run_id: int, *, owner: str | None = None) -> bool:
    """Delete a run and its trades; True when something was deleted.

    ``owner``: None = any run; a user name = that user's own run only.
    """
    with store.engine.begin() as conn:
        mine = conn.execute(
            select(BacktestRun.id).where(
                BacktestRun.id == int(run_id), owned(BacktestRun.owner, owner)
            )
        ).first()
        if mine is None:
            return False
        conn.execute(delete(BacktestTrade.__table__).where(BacktestTrade.run_id == int(run_id)))
        n = conn.execute(
            delete(BacktestRun.__table__).where(BacktestRun.id == int(run_id))
        ).rowcount
    return bool(n)


def count_runs(store: Store, *, owner: str | None = None) -> int:
    """Number of stored runs ``owner`` may see (None = all)."""
    q = select(func.count()).select_from(BacktestRun.__table__)
    q = q.where(visible(BacktestRun.owner, owner))
    with store.engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)
