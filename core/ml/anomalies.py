"""Anomalous sessions: IsolationForest on volatility, volume and momentum features.

Inputs per session (from :func:`core.ml.features.build_features`): ``ret_1``, ``|ret_1|``,
``vol_5``, ``vol_20``, ``atr_pct``, ``volume_ratio``, ``mom_5``, ``mom_20``, standardised.
IsolationForest (Liu, Ting & Zhou, 2008; scikit-learn) isolates points with short average
path lengths; ``score = -score_samples`` (higher = more anomalous, about 0.35–0.8). The
``contamination`` fraction of sessions with the highest scores are flagged. This is a
*descriptive* tool over the whole history shown (the forest sees every session), not a
forecast. Severity: the flagged sessions split into score terciles, ``"baixa"``,
``"média"``, ``"alta"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InputError
from core.ml.features import build_features

__all__ = ["detect_anomalies", "stored_anomalies", "ANOMALY_FEATURES", "SEVERITIES"]

ANOMALY_FEATURES = ("ret_1", "vol_5", "vol_20", "atr_pct", "volume_ratio", "mom_5", "mom_20")
SEVERITIES = ("baixa", "média", "alta")


def detect_anomalies(
    bars: pd.DataFrame, *, contamination: float = 0.02, random_state: int = 0
) -> pd.DataFrame:
    """Flag anomalous sessions of one instrument.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical daily bars (≥ 60 sessions).
    contamination : float
        Fraction of sessions to flag (0 < c ≤ 0.2).
    random_state : int
        Seed of the forest.

    Returns
    -------
    pandas.DataFrame
        Only the flagged sessions, index ``date`` (ascending), columns ``score`` (float,
        higher = more anomalous), ``severity`` (``"baixa"``/``"média"``/``"alta"``) and
        ``ret_1`` (that session's log return, for the tooltip). Empty with those columns
        when there are too few sessions.

    Raises
    ------
    InputError
        On ``contamination`` outside (0, 0.2].
    """
    from sklearn.ensemble import IsolationForest
    from sklearn.preprocessing import StandardScaler

    if not 0 < contamination <= 0.2:
        raise InputError("A contaminação deve estar entre 0 e 0,2.")
    empty = pd.DataFrame(
        {
            "score": pd.Series(dtype=float),
            "severity": pd.Series(dtype=object),
            "ret_1": pd.Series(dtype=float),
        },
        index=pd.DatetimeIndex([], name="date"),
    )
    if len(bars) < 60:
        return empty
    X = build_features(bars, features=list(ANOMALY_FEATURES))
    X["abs_ret"] = X["ret_1"].abs()
    X["volume_ratio"] = X["volume_ratio"].fillna(1.0)  # zero-volume index rows
    X = X.dropna()
    if len(X) < 40:
        return empty
    Z = StandardScaler().fit_transform(X.to_numpy())
    forest = IsolationForest(
        n_estimators=200, contamination=contamination, random_state=random_state, n_jobs=1
    ).fit(Z)
    score = -forest.score_samples(Z)
    flagged = forest.predict(Z) == -1
    if not flagged.any():
        return empty
    s = score[flagged]
    cuts = np.quantile(s, [1 / 3, 2 / 3]) if len(s) >= 3 else [np.inf, np.inf]
    sev = np.where(s >= cuts[1], "alta", np.where(s >= cuts[0], "média", "baixa"))
    out = pd.DataFrame(
        {"score": s, "severity": sev.astype(object), "ret_1": X["ret_1"].to_numpy()[flagged]},
        index=pd.DatetimeIndex(X.index[flagged], name="date"),
    )
    return out.sort_index()


def stored_anomalies(
    store, ticker: str, *, contamination: float = 0.02, random_state: int = 0
) -> pd.DataFrame:
    """:func:`detect_anomalies` on every stored daily bar of ``ticker``, computed once per data
    version (:meth:`core.data.store.Store.cached`; the forest is seeded, so the result is a
    function of the bars alone).

    The Modelos page shows it on load; fitting 200 trees on ~3.700 sessions takes seconds,
    which a repeated visit should not pay again (issue 11).

    Parameters
    ----------
    store : core.data.store.Store
    ticker : str
    contamination, random_state
        As in :func:`detect_anomalies`.

    Returns
    -------
    pandas.DataFrame
        As :func:`detect_anomalies` (a copy).

    Raises
    ------
    InputError
        On ``contamination`` outside (0, 0.2].
    core.errors.UnknownTickerError
        When ``store`` has no such instrument (as :meth:`Store.bars`).
    """
    key = ("ml.stored_anomalies", str(ticker).upper(), float(contamination), int(random_state))
    return store.cached(
        key,
        lambda: detect_anomalies(
            store.bars(ticker), contamination=contamination, random_state=random_state
        ),
    )
