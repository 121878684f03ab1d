"""The champion's next-session predictions, the prediction log and its live scoring.

:func:`predict_next` gives, for every instrument in the store, the champion's probability
that the session after the instrument's last bar closes up, with a confidence
``|2·p − 1|`` (0 = coin flip, 1 = certain) and a high-confidence flag (``p ≥ level`` or
``p ≤ 1 − level``, default level 0.60). :func:`log_predictions` stores them
(``ml_predictions``, one row per model, ticker and decision date); :func:`score_predictions`
fills in what happened once the next bar is stored (up = adjusted close above the decision
date's); :func:`live_accuracy` compares the live hit rate with the walk-forward accuracy:
a drift warning is raised when, with at least ``min_n`` scored predictions, the live
accuracy falls below the lower end of the walk-forward 95 % CI.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from sqlalchemy import select, update

from core.data.calendar import next_session
from core.data.store import Store
from core.errors import PregaoError
from core.ml.registry import INDEX_TICKER, ChampionModel, load_champion
from core.ml.tables import MLPrediction
from core.textfmt import pct

__all__ = [
    "predict_next",
    "log_predictions",
    "score_predictions",
    "live_accuracy",
    "wilson_ci",
    "HISTORY_DAYS",
]

_T = MLPrediction.__table__
#: Calendar days of history read per instrument to compute the features (≈ 500 sessions,
#: so the recursive EMA/ADX smoothing has converged).
HISTORY_DAYS = 730
PRED_COLUMNS = [
    "ticker",
    "as_of",
    "target_date",
    "p_up",
    "direction",
    "confidence",
    "high_confidence",
]


def wilson_ci(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion ``k / n`` (Wilson, 1927)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, c - h), min(1.0, c + h)


def predict_next(
    store: Store,
    champion: ChampionModel | None = None,
    *,
    tickers: list[str] | None = None,
    level: float = 0.60,
) -> pd.DataFrame:
    """Champion's P(up) for the next session of every instrument (module docstring).

    Parameters
    ----------
    store : Store
    champion : ChampionModel, optional
        Default: :func:`core.ml.registry.load_champion` (``direction``).
    tickers : list of str, optional
        Default: every instrument in the store.
    level : float
        High-confidence level (0.5..1).

    Returns
    -------
    pandas.DataFrame
        Columns ``ticker, as_of, target_date, p_up, direction ("Alta"/"Queda"),
        confidence, high_confidence``, sorted by confidence, descending; empty without a
        champion. ``attrs["model_id"]`` names the model.
    """
    champion = champion or load_champion(store)
    if champion is None:
        return pd.DataFrame(columns=PRED_COLUMNS)
    tickers = tickers or store.tickers()
    index_bars = None
    if champion.uses_index and INDEX_TICKER in store.tickers():
        last = store.last_date(INDEX_TICKER) if hasattr(store, "last_date") else None
        start = None if last is None else pd.Timestamp(last) - pd.Timedelta(days=HISTORY_DAYS)
        index_bars = store.bars(INDEX_TICKER, start)
    rows = []
    for t in tickers:
        try:
            last = store.last_date(t)
        except (PregaoError, TypeError):
            last = None
        start = None if last is None else pd.Timestamp(last) - pd.Timedelta(days=HISTORY_DAYS)
        bars = store.bars(t, start)
        if len(bars) < 60:
            continue
        p = champion.predict_proba_up(bars, index_bars if t != INDEX_TICKER else bars)
        pv = p.iloc[-1]
        if np.isnan(pv):
            continue
        as_of = bars.index[-1]
        rows.append(
            {
                "ticker": t,
                "as_of": as_of,
                "target_date": next_session(as_of),
                "p_up": float(pv),
                "direction": "Alta" if pv >= 0.5 else "Queda",
                "confidence": abs(2 * pv - 1),
                "high_confidence": bool(pv >= level or pv <= 1 - level),
            }
        )
    df = pd.DataFrame(rows, columns=PRED_COLUMNS)
    df = df.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)
    df.attrs["model_id"] = champion.model_id
    return df


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def log_predictions(store: Store, model_id: int, preds: pd.DataFrame) -> int:
    """Store predictions (idempotent on model, ticker and decision date); returns rows added."""
    if preds.empty:
        return 0
    added = 0
    with store.transaction() as conn:
        existing = {
            (r[0], pd.Timestamp(r[1]))
            for r in conn.execute(
                select(_T.c.ticker, _T.c.as_of).where(_T.c.model_id == int(model_id))
            )
        }
        for r in preds.itertuples(index=False):
            key = (r.ticker, pd.Timestamp(r.as_of))
            if key in existing:
                continue
            conn.execute(
                _T.insert().values(
                    model_id=int(model_id),
                    ticker=r.ticker,
                    as_of=pd.Timestamp(r.as_of).to_pydatetime(),
                    target_date=pd.Timestamp(r.target_date).to_pydatetime(),
                    p_up=float(r.p_up),
                    created_at=_now(),
                )
            )
            added += 1
    return added


def score_predictions(store: Store) -> int:
    """Fill ``outcome`` of logged predictions whose next bar is now stored; returns the count."""
    with store.engine.connect() as conn:
        pending = conn.execute(
            select(_T.c.id, _T.c.ticker, _T.c.as_of).where(_T.c.outcome.is_(None))
        ).all()
    if not pending:
        return 0
    done = 0
    by_ticker: dict[str, list] = {}
    for r in pending:
        by_ticker.setdefault(r.ticker, []).append(r)
    with store.transaction() as conn:
        for t, rows in by_ticker.items():
            first = min(pd.Timestamp(r.as_of) for r in rows)
            try:
                bars = store.bars(t, first)
            except PregaoError:
                continue
            c = bars["adj_close"]
            for r in rows:
                a = pd.Timestamp(r.as_of)
                after = c[c.index > a]
                if a not in c.index or after.empty:
                    continue
                conn.execute(
                    update(_T)
                    .where(_T.c.id == r.id)
                    .values(outcome=int(after.iloc[0] > c.loc[a]), scored_at=_now())
                )
                done += 1
    return done


def live_accuracy(
    store: Store, model_id: int, *, wf_lo: float | None = None, min_n: int = 20
) -> dict:
    """Live hit rate of a model's scored predictions vs its walk-forward CI.

    Returns
    -------
    dict
        ``n`` scored, ``pending``, ``accuracy``, ``lo``/``hi`` (Wilson 95 %), ``wf_lo``,
        ``drift`` (bool), ``message`` (pt-BR).
    """
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(_T.c.p_up, _T.c.outcome).where(_T.c.model_id == int(model_id))
        ).all()
    scored = [(p, o) for p, o in rows if o is not None]
    n = len(scored)
    k = sum(int((p >= 0.5) == bool(o)) for p, o in scored)
    acc = k / n if n else float("nan")
    lo, hi = wilson_ci(k, n)
    drift = bool(n >= min_n and wf_lo is not None and acc < wf_lo)
    if n == 0:
        msg = "Nenhuma previsão avaliada ainda."
    elif drift:
        msg = (
            f"Alerta de deriva: acerto ao vivo {pct(acc, 1)} em {n} previsões, abaixo do "
            f"limite inferior do walk-forward ({pct(wf_lo, 1)})."
        )
    else:
        msg = f"Acerto ao vivo {pct(acc, 1)} em {n} previsões (IC 95% {pct(lo, 1)}–{pct(hi, 1)})."
    return {
        "n": n,
        "pending": len(rows) - n,
        "accuracy": acc,
        "lo": lo,
        "hi": hi,
        "wf_lo": wf_lo,
        "drift": drift,
        "message": msg,
    }
