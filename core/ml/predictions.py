"""The champion's next-session predictions, the prediction log and its live scoring.

:func:`predict_next` gives, for every instrument the champion was evaluated on, the
champion's probability that the session after the instrument's last bar closes up, with
its signal strength ``|2·p − 1|`` (``confidence``: 0 = coin flip; it is *not* a
probability) and ``high_confidence`` — true only when ``p`` falls in a calibrated bin whose
out-of-sample hit rate beat the baseline significantly (``metrics["confidence_bins"]``).
It never forecasts a session the model saw: a decision date ``as_of ≤ trained_until`` is
refused (its target session is then ≤ the session after ``trained_until``, whose outcome
the model was trained on). Each row says how many B3 sessions the instrument's data is
behind; what is not forecast is listed in ``attrs["skipped"]`` with the reason.

:func:`refresh_predictions` is the one function behind the page, the CLI and the weekly
job. With ``write=False`` (page render) it only reads; with ``write=True`` it also scores
earlier predictions and logs the new ones (:func:`log_predictions`, idempotent and safe
against concurrent writers). :func:`live_accuracy` reports the live hit rate;
:func:`live_drift` runs the champion's CUSUM (:mod:`core.ml.stats`) on the per-date
log-loss of the scored predictions against the base rate.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.data.calendar import b3_sessions, next_session
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
    "live_drift",
    "wilson_ci",
    "sessions_behind",
    "last_closed_session",
    "refresh_predictions",
    "PredictionRefresh",
    "fingerprint_warning",
    "in_proven_bin",
    "HISTORY_DAYS",
]

_T = MLPrediction.__table__
#: Calendar days of history read per instrument to compute the features (≈ 500 sessions,
#: so the recursive EMA/ADX smoothing has converged).
HISTORY_DAYS = 730
#: Local time (America/Sao_Paulo) after which today's session counts as closed.
CLOSE_HOUR = 18
PRED_COLUMNS = [
    "ticker",
    "as_of",
    "target_date",
    "p_up",
    "direction",
    "confidence",
    "high_confidence",
    "sessions_behind",
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


def last_closed_session(now: dt.datetime | None = None) -> pd.Timestamp:
    """The last B3 session whose close has passed (America/Sao_Paulo, close at 18:00).

    Parameters
    ----------
    now : datetime, optional
        Aware or naive (naive = São Paulo wall time); default: now.
    """
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Sao_Paulo")
    now = now or dt.datetime.now(tz)
    if now.tzinfo is not None:
        now = now.astimezone(tz).replace(tzinfo=None)
    today = pd.Timestamp(now.date())
    s = b3_sessions(today - pd.Timedelta(days=15), today)
    if len(s) and s[-1] == today and now.hour < CLOSE_HOUR:
        s = s[:-1]
    return s[-1] if len(s) else today


def sessions_behind(as_of, reference) -> int:
    """B3 sessions after ``as_of`` up to ``reference`` inclusive (0 = up to date)."""
    a = pd.Timestamp(as_of).normalize()
    r = pd.Timestamp(reference).normalize()
    if r <= a:
        return 0
    return int(len(b3_sessions(a + pd.Timedelta(days=1), r)))


def in_proven_bin(metrics: dict, p: float) -> bool:
    """True when ``p`` (P(up)) falls in a calibrated bin whose out-of-sample hit rate beat
    the baseline significantly (``metrics["confidence_bins"]`` entries with ``proven``).

    Models trained before those bins existed (no ``confidence_bins`` key) are never
    confident. The one rule behind ``predict_next``'s ``high_confidence`` and the alerts
    engine's ``model`` rules.
    """
    if "confidence_bins" not in (metrics or {}) or p != p:
        return False
    bins = [b for b in metrics.get("confidence_bins") or [] if b.get("proven")]
    return any(b["lo"] <= p < b["hi"] or (b["hi"] == 1.0 and p == 1.0) for b in bins)


def _skip(ticker: str, reason: str) -> dict:
    return {"ticker": ticker, "reason": reason}


def predict_next(
    store: Store,
    champion: ChampionModel | None = None,
    *,
    tickers: list[str] | None = None,
    level: float = 0.60,
    reference: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Champion's P(up) for the next session of its instruments (module docstring).

    Parameters
    ----------
    store : Store
    champion : ChampionModel, optional
        Default: :func:`core.ml.registry.load_champion` (``direction``).
    tickers : list of str, optional
        Default: every instrument in the store; those the champion was not evaluated on are
        skipped (listed in ``attrs["skipped"]``).
    level : float
        Kept for compatibility and unused: a prediction is flagged only inside a proven
        calibrated bin; models trained before those bins existed are never flagged.
    reference : Timestamp, optional
        The last closed session ("today"); default :func:`last_closed_session`.

    Returns
    -------
    pandas.DataFrame
        Columns ``ticker, as_of, target_date, p_up, direction ("Alta"/"Queda"),
        confidence`` (signal strength ``|2p − 1|``), ``high_confidence`` (in a proven
        bin), ``sessions_behind``; sorted by strength, descending; empty without a
        champion. ``attrs``: ``model_id``, ``skipped`` (list of ``{"ticker", "reason"}``),
        ``reference`` (the session "today" is measured against).
    """
    champion = champion or load_champion(store)
    if champion is None:
        df = pd.DataFrame(columns=PRED_COLUMNS)
        df.attrs["skipped"] = []
        return df
    reference = pd.Timestamp(reference) if reference is not None else last_closed_session()
    all_tickers = store.tickers()
    tickers = tickers or all_tickers
    universe = set(champion.tickers or [])
    index_bars = None
    if champion.uses_index and INDEX_TICKER in all_tickers:
        last = store.last_date(INDEX_TICKER)
        start = None if last is None else pd.Timestamp(last) - pd.Timedelta(days=HISTORY_DAYS)
        index_bars = store.bars(INDEX_TICKER, start)
    idx_last = None if index_bars is None or index_bars.empty else index_bars.index[-1]
    rows, skipped = [], []
    tu = pd.Timestamp(champion.trained_until)
    for t in tickers:
        if universe and t not in universe:
            skipped.append(_skip(t, "fora dos ativos em que o modelo foi avaliado"))
            continue
        try:
            last = store.last_date(t)
        except (PregaoError, TypeError):
            last = None
        if last is None:
            skipped.append(_skip(t, "sem cotações no banco"))
            continue
        start = pd.Timestamp(last) - pd.Timedelta(days=HISTORY_DAYS)
        bars = store.bars(t, start)
        if len(bars) < 60:
            skipped.append(_skip(t, f"histórico curto ({len(bars)} pregões; mínimo 60)"))
            continue
        as_of = bars.index[-1]
        if as_of <= tu:
            skipped.append(
                _skip(
                    t,
                    f"dados até {as_of:%d/%m/%Y}, não posteriores ao treino (até "
                    f"{tu:%d/%m/%Y}): o modelo já viu o pregão seguinte",
                )
            )
            continue
        if champion.uses_index and t != INDEX_TICKER and (idx_last is None or idx_last < as_of):
            when = "sem dados" if idx_last is None else f"dados só até {idx_last:%d/%m/%Y}"
            skipped.append(_skip(t, f"^BVSP {when}; o modelo usa atributos do índice"))
            continue
        p = champion.predict_proba_up(bars, index_bars if t != INDEX_TICKER else bars)
        pv = p.iloc[-1]
        if np.isnan(pv):
            skipped.append(_skip(t, "atributos incompletos na última sessão"))
            continue
        proven = in_proven_bin(champion.metrics, pv)
        rows.append(
            {
                "ticker": t,
                "as_of": as_of,
                "target_date": next_session(as_of),
                "p_up": float(pv),
                "direction": "Alta" if pv >= 0.5 else "Queda",
                "confidence": abs(2 * pv - 1),
                "high_confidence": proven,
                "sessions_behind": sessions_behind(as_of, reference),
            }
        )
    df = pd.DataFrame(rows, columns=PRED_COLUMNS)
    df = df.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)
    df.attrs["model_id"] = champion.model_id
    df.attrs["skipped"] = skipped
    df.attrs["reference"] = reference
    return df


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def log_predictions(store: Store, model_id: int, preds: pd.DataFrame) -> int:
    """Store predictions (idempotent on model, ticker and decision date); returns rows added.

    Safe when two processes log the same predictions at once: each row is inserted with
    ``ON CONFLICT DO NOTHING`` on the unique key (SQLite and PostgreSQL), and on other
    databases a duplicate's IntegrityError is caught row by row.
    """
    if preds.empty:
        return 0
    now = _now()
    values = [
        {
            "model_id": int(model_id),
            "ticker": r.ticker,
            "as_of": pd.Timestamp(r.as_of).to_pydatetime(),
            "target_date": pd.Timestamp(r.target_date).to_pydatetime(),
            "p_up": float(r.p_up),
            "created_at": now,
        }
        for r in preds.itertuples(index=False)
    ]
    dialect = store.engine.dialect.name
    added = 0
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        with store.transaction() as conn:
            for v in values:
                stmt = (
                    insert(_T)
                    .values(**v)
                    .on_conflict_do_nothing(index_elements=["model_id", "ticker", "as_of"])
                    .returning(_T.c.id)
                )
                added += len(conn.execute(stmt).all())  # rowcount is -1 on psycopg
        return added
    for v in values:  # pragma: no cover - other databases
        try:
            with store.transaction() as conn:
                conn.execute(_T.insert().values(**v))
            added += 1
        except IntegrityError:
            continue
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
    # read every bar first: the store's reads may take SQLite's write lock themselves, so
    # reading inside the write transaction would wait on itself ("database is locked")
    updates = []
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
            updates.append((r.id, int(after.iloc[0] > c.loc[a])))
    if not updates:
        return 0
    with store.transaction() as conn:
        for rid, outcome in updates:
            conn.execute(update(_T).where(_T.c.id == rid).values(outcome=outcome, scored_at=_now()))
            done += 1
    return done


def live_accuracy(
    store: Store, model_id: int, *, wf_lo: float | None = None, min_n: int = 20
) -> dict:
    """Live hit rate of a model's scored predictions.

    Returns
    -------
    dict
        ``n`` scored, ``pending``, ``accuracy``, ``lo``/``hi`` (Wilson 95 %, iid — too
        narrow for same-day predictions, said in the message), ``wf_lo``, ``drift`` (always
        False: the drift alarm is :func:`live_drift`), ``message`` (pt-BR).
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
    # The drift alarm is :func:`live_drift` (a CUSUM on date-clustered log loss). Comparing
    # the hit rate of correlated same-day predictions with an iid CI fired about half the
    # time on the champion's own out-of-sample history, so ``drift`` stays False here.
    drift = False
    if n == 0:
        msg = "Nenhuma previsão avaliada ainda."
    else:
        msg = (
            f"Acerto ao vivo {pct(acc, 1)} em {n} {'previsão' if n == 1 else 'previsões'} "
            f"(IC 95% {pct(lo, 1)}–{pct(hi, 1)}; previsões do mesmo dia são correlacionadas, "
            "o intervalo real é mais largo)."
        )
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


def live_drift(store: Store, champion: ChampionModel) -> dict:
    """Sequential drift test of the champion's scored predictions (:mod:`core.ml.stats`).

    Per decision date, the mean of (model log loss − base-rate log loss) over the scored
    predictions of that date; a one-sided CUSUM whose threshold was set on the champion's own
    out-of-sample history (``metrics["drift"]``) so that the chance of a false alarm within
    a year of sessions is 5 %.

    Returns
    -------
    dict
        ``available`` (bool), ``n_dates``, ``statistic`` (last CUSUM value), ``peak``,
        ``threshold``, ``alarm`` (bool), ``message`` (pt-BR).
    """
    from core.ml.stats import CusumSpec, binary_log_loss, cusum

    spec_d = champion.metrics.get("drift")
    base = champion.metrics.get("base_rate")
    out = {
        "available": False,
        "n_dates": 0,
        "statistic": float("nan"),
        "peak": float("nan"),
        "threshold": float("nan"),
        "alarm": False,
    }
    if not spec_d or base is None:
        out["message"] = (
            "Teste de deriva indisponível: o campeão foi treinado antes do teste sequencial; "
            "retreine."
        )
        return out
    spec = CusumSpec(**spec_d)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(_T.c.as_of, _T.c.p_up, _T.c.outcome).where(
                _T.c.model_id == int(champion.model_id), _T.c.outcome.is_not(None)
            )
        ).all()
    out.update(available=True, threshold=spec.h)
    if not rows:
        out["message"] = "Teste de deriva (CUSUM): nenhuma previsão avaliada ainda."
        return out
    df = pd.DataFrame(rows, columns=["as_of", "p_up", "outcome"])
    d = binary_log_loss(df["p_up"], df["outcome"]) - binary_log_loss(
        np.full(len(df), float(base)), df["outcome"]
    )
    per_date = pd.Series(d).groupby(pd.to_datetime(df["as_of"]).to_numpy()).mean().sort_index()
    path = cusum(per_date.to_numpy(), spec)
    alarm = bool((path > spec.h).any())
    out.update(
        n_dates=int(len(per_date)),
        statistic=float(path[-1]),
        peak=float(path.max()),
        alarm=alarm,
    )
    nd = len(per_date)
    dias = "pregão" if nd == 1 else "pregões"
    out["message"] = (
        f"Alerta de deriva (CUSUM da log-loss vs. taxa-base em {nd} {dias}): o modelo "
        f"piorou além do limite ({path.max():.2f} > {spec.h:.2f})."
        if alarm
        else f"Sem deriva detectada (CUSUM {path[-1]:.2f}, limite {spec.h:.2f}, {nd} {dias})."
    )
    return out


@dataclass
class PredictionRefresh:
    """Result of :func:`refresh_predictions`.

    Attributes
    ----------
    model_id, model_name, trained_until : the champion (None without one).
    predictions : pandas.DataFrame
        :func:`predict_next`'s frame.
    skipped : list of dict
        ``{"ticker", "reason"}`` of instruments not forecast.
    reference : Timestamp
        The last closed B3 session the staleness is measured against.
    scored_now, logged : int
        Predictions scored / logged by this call (0 with ``write=False``).
    live, drift : dict
        :func:`live_accuracy` and :func:`live_drift`.
    warnings : list of str
        Library/feature version and data fingerprint warnings (pt-BR).
    message : str
    """

    model_id: int | None
    model_name: str
    trained_until: pd.Timestamp | None
    predictions: pd.DataFrame
    skipped: list = field(default_factory=list)
    reference: pd.Timestamp | None = None
    scored_now: int = 0
    logged: int = 0
    live: dict = field(default_factory=dict)
    drift: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    message: str = ""
    metrics: dict = field(default_factory=dict)


def fingerprint_warning(store: Store, champion: ChampionModel) -> str | None:
    """pt-BR warning when the bars the champion was trained on changed since (else None).

    Recomputes :func:`core.ml.evaluation.fingerprint` over the champion's instruments (and
    ^BVSP when used) up to its ``data_end``; models trained before 0008 are not checked.
    """
    from core.ml.evaluation import fingerprint

    if champion.data_end is None or not champion.data_fingerprint:
        return None
    start = champion.request.get("start")
    frames = {}
    ends = champion.data_ends

    def end(t):
        return pd.Timestamp(ends[t]) if t in ends else champion.data_end

    try:
        for t in champion.tickers:
            frames[t] = store.bars(t, start, end(t))
        if champion.uses_index and any(t != INDEX_TICKER for t in champion.tickers):
            frames[INDEX_TICKER] = store.bars(INDEX_TICKER, start, end(INDEX_TICKER))
    except PregaoError as exc:
        return f"Não foi possível conferir os dados de treino do modelo: {exc}"
    if fingerprint(frames) != champion.data_fingerprint:
        return (
            f"Os dados de treino do modelo #{champion.model_id} mudaram desde o treino "
            f"(cotações até {champion.data_end:%d/%m/%Y} corrigidas ou reimportadas): as "
            "métricas guardadas podem não valer mais; retreine."
        )
    return None


def refresh_predictions(
    store: Store,
    *,
    write: bool = False,
    champion: ChampionModel | None = None,
    reference: pd.Timestamp | None = None,
    check_data: bool | None = None,
) -> PredictionRefresh:
    """The champion's predictions for the page, the CLI and the weekly job (one function).

    Parameters
    ----------
    store : Store
    write : bool
        False (page render): read only. True (CLI ``predict``, weekly job, the page's
        "Registrar previsões" button): score earlier predictions, then log the new ones.
    champion : ChampionModel, optional
        Default: the current champion.
    reference : Timestamp, optional
        The last closed session (default: :func:`last_closed_session`).
    check_data : bool, optional
        Recompute the training data's fingerprint (:func:`fingerprint_warning`, ~1 s on the
        23 stocks); default: with ``write`` (CLI, weekly job, the page's button), not on a
        page render, which must stay fast.

    Returns
    -------
    PredictionRefresh

    Raises
    ------
    StoreError
        When the champion's artifact is missing or altered.
    """
    scored = score_predictions(store) if write else 0
    champion = champion or load_champion(store)
    if champion is None:
        return PredictionRefresh(
            None,
            "",
            None,
            predict_next(store, None),
            scored_now=scored,
            message="Nenhum modelo campeão: treine e promova um modelo (python -m dashboard "
            "retrain ou a página Modelos).",
        )
    df = predict_next(store, champion, reference=reference)
    logged = log_predictions(store, champion.model_id, df) if write else 0
    warns = list(champion.warnings)
    fw = (
        fingerprint_warning(store, champion)
        if (write if check_data is None else check_data)
        else None
    )
    if fw:
        warns.append(fw)
    live = live_accuracy(store, champion.model_id, wf_lo=None)
    drift = live_drift(store, champion)
    n = len(df)
    k = len(df.attrs.get("skipped", []))
    msg = (
        f"{n} {'previsão' if n == 1 else 'previsões'}"
        + (f"; {k} {'ativo ignorado' if k == 1 else 'ativos ignorados'}" if k else "")
        + "."
    )
    return PredictionRefresh(
        model_id=champion.model_id,
        model_name=champion.name,
        trained_until=champion.trained_until,
        predictions=df,
        skipped=list(df.attrs.get("skipped", [])),
        reference=df.attrs.get("reference"),
        scored_now=scored,
        logged=logged,
        live=live,
        drift=drift,
        warnings=warns,
        message=msg,
        metrics=champion.metrics,
    )
