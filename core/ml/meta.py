"""Meta-labelling of a base strategy's trades (López de Prado, *Advances in Financial Machine
Learning*, 2018, ch. 3–4 and 10).

The base strategy decides the side; a secondary model decides whether to take each trade
and how much to bet. :func:`meta_label` does, for a strategy (``wave3`` or any other of
:data:`core.strategies.STRATEGIES`) over a set of instruments:

1. **Trades** — the base strategy's historical trades from the backtest engine
   (:func:`core.backtest.runner.run_backtest`, one run per instrument, B3 costs, default
   sizing), long trades only. The *signal date* is the session before the entry fill (the
   engine fills at the next open); every feature is computed from bars up to the signal date
   (:func:`core.ml.features.build_features`, causal).
2. **Triple-barrier labels** (ch. 3.4) — from the entry fill, an upper barrier
   ``entry·(1 + pt·σ)``, a lower barrier ``entry·(1 − sl·σ)`` (σ: standard deviation of daily
   returns over ``vol_window`` sessions up to the signal date) and a time limit of
   ``max_hold`` sessions. The first barrier touched sets the trade's return (when a bar
   touches both, the stop is assumed first: conservative); at the time limit, the close.
   B3 round-trip costs (:data:`core.backtest.costs.B3_DEFAULT`) are subtracted; label 1 when
   the net return is > 0.
3. **Sample weights by label uniqueness** (ch. 4.4) — per instrument, the concurrency
   ``c_t`` of labels spanning each session; a label's weight is the mean of ``1/c_t`` over its
   span, normalised to mean 1.
4. **Walk-forward** — trades sorted by signal date, ``folds`` expanding folds (test blocks
   of ``n // (folds + 1)`` trades); training trades whose label ends on or after the first
   test signal date are purged. Model: :func:`core.ml.models.make_model` with calibration
   inside the training trades (Platt by default: few rows).
5. **Bet size** from the calibrated probability (ch. 10.1): ``z = (p − ½)/√(p(1 − p))``,
   ``m = 2Φ(z) − 1``, long-only size ``max(m, 0)``.
6. **With filter vs without on the same out-of-sample trades** — win rate, mean net return
   and per-trade Sharpe (mean/std of trade returns, annualised by trades per year, skipped
   trades count as 0), for: every trade; trades with ``p ≥ threshold``; every trade sized by
   ``m``.
7. **Seed 002's approval gates** (:class:`MetaGates`, configurable): at least 50 trades,
   out-of-sample accuracy ≥ 75 %, ROC-AUC ≥ 0.70, win rate with the filter ≥ base win rate
   + 5 pp, consistency ``1 − std(fold accuracies)`` ≥ 0.85, Sharpe with ML > without. The
   report lists each with its number and says plainly when they fail.

Trades from the paper account are not included yet (there is no paper account in this
codebase); the function takes trades from backtests only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, norm

from core.data.store import Store
from core.errors import InputError

__all__ = ["MetaGates", "MetaRequest", "MetaResult", "meta_label", "triple_barrier", "bet_size"]

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class MetaGates:
    """Seed 002's approval criteria for an ML trade filter (all out of sample).

    Attributes
    ----------
    min_trades : int
        Out-of-sample trades ≥ this (50).
    min_accuracy : float
        Accuracy of the take/skip decision ≥ this (0.75).
    min_roc_auc : float
        ROC-AUC ≥ this (0.70).
    min_win_rate_gain : float
        Win rate of the filtered trades ≥ the base win rate + this (0.05 = 5 pp).
    min_consistency : float
        ``1 − std(fold accuracies)`` ≥ this (0.85; the seed's definition).
    sharpe_improves : bool
        Per-trade Sharpe with the filter > without.
    """

    min_trades: int = 50
    min_accuracy: float = 0.75
    min_roc_auc: float = 0.70
    min_win_rate_gain: float = 0.05
    min_consistency: float = 0.85
    sharpe_improves: bool = True

    @classmethod
    def from_string(cls, text: str) -> MetaGates:
        """Parse ``"min_trades=30,min_accuracy=0.6"`` (empty = defaults).

        Raises
        ------
        InputError
            On unknown keys or bad values.
        """
        kw: dict[str, Any] = {}
        names = set(cls.__dataclass_fields__)
        for part in filter(None, (p.strip() for p in (text or "").split(","))):
            if "=" not in part:
                raise InputError(f"Regra inválida {part!r}: use chave=valor.")
            k, v = (s.strip() for s in part.split("=", 1))
            if k not in names:
                raise InputError(f"Regra desconhecida {k!r}; use {sorted(names)}.")
            try:
                if k == "sharpe_improves":
                    kw[k] = v.lower() in ("1", "true", "yes", "sim")
                elif k == "min_trades":
                    kw[k] = int(v)
                else:
                    kw[k] = float(v)
            except ValueError as exc:
                raise InputError(f"Valor inválido para {k}: {v!r}.") from exc
        return cls(**kw)


@dataclass(frozen=True)
class MetaRequest:
    """What to meta-label.

    Attributes
    ----------
    strategy : str
        Base strategy name (:data:`core.strategies.STRATEGIES`).
    tickers : tuple of str
        Instruments (empty: every stock in the store).
    params : dict
        Base strategy parameters (its defaults otherwise).
    pt, sl : float
        Upper / lower barrier in multiples of the daily σ.
    max_hold : int
        Time limit (sessions).
    vol_window : int
        Sessions of the σ estimate.
    model : str
        Secondary model (:data:`core.ml.models.MODEL_NAMES`).
    folds : int
        Walk-forward folds.
    threshold : float
        Take a trade when P(win) ≥ this.
    calibration : str
        Probability calibration inside each training window.
    """

    strategy: str = "wave3"
    tickers: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)
    pt: float = 2.0
    sl: float = 2.0
    max_hold: int = 10
    vol_window: int = 20
    model: str = "logreg"
    folds: int = 5
    threshold: float = 0.5
    calibration: str = "sigmoid"

    def validate(self) -> None:
        """Raise :class:`InputError` (pt-BR) on out-of-range values."""
        from core.ml.models import CALIBRATIONS, MODEL_NAMES
        from core.strategies import STRATEGIES

        if self.strategy not in STRATEGIES:
            raise InputError(f"Estratégia desconhecida {self.strategy!r}.")
        if self.strategy in ("ml_filter",):
            raise InputError("A estratégia base não pode ser o próprio filtro de ML.")
        if self.model not in MODEL_NAMES:
            raise InputError(f"Modelo desconhecido {self.model!r}; use {', '.join(MODEL_NAMES)}.")
        if self.calibration not in CALIBRATIONS:
            raise InputError(f"Calibração desconhecida {self.calibration!r}.")
        if not (self.pt > 0 and self.sl > 0):
            raise InputError("As barreiras (pt, sl) devem ser positivas.")
        if not 1 <= self.max_hold <= 250:
            raise InputError("O limite de tempo deve ficar entre 1 e 250 pregões.")
        if not 5 <= self.vol_window <= 250:
            raise InputError("A janela de volatilidade deve ficar entre 5 e 250 pregões.")
        if not 2 <= self.folds <= 20:
            raise InputError("Use de 2 a 20 dobras.")
        if not 0.5 <= self.threshold < 1:
            raise InputError("O limiar de probabilidade deve ficar entre 0,5 e 1.")


@dataclass
class MetaResult:
    """Outcome of :func:`meta_label` (see the module docstring).

    Attributes
    ----------
    request : dict
    n_trades : int
        Labelled base trades (all instruments).
    n_oos : int
        Out-of-sample trades.
    metrics : dict
        ``accuracy, roc_auc, brier, log_loss, base_win_rate, p_value`` (binomial test of the
        filtered win rate against the base win rate), ``consistency``, ``fold_share``.
    folds : list of dict
        Per fold: ``fold, n_train, n_test, accuracy, roc_auc, base_accuracy``.
    comparison : dict
        ``without``, ``with_filter``, ``sized``: ``trades, taken, win_rate, mean_return``
        (mean net return per trade, skipped trades count as 0), ``sharpe``.
    gates : list of dict
        ``gate, label, value, threshold, comparison, passed``.
    passed : bool
    message : str
        pt-BR sentence: approved, or which gates failed.
    trades : pandas.DataFrame
        Out-of-sample trades: ``ticker, signal_date, entry_date, t1, ret, label, weight,
        fold, p, take, size``.
    seconds : float
    """

    request: dict
    n_trades: int
    n_oos: int
    metrics: dict
    folds: list
    comparison: dict
    gates: list
    passed: bool
    message: str
    trades: pd.DataFrame
    seconds: float

    def to_dict(self) -> dict:
        """JSON-friendly dict (trades as records)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["trades"] = self.trades.to_dict("records")
        return d


def bet_size(p) -> np.ndarray:
    """Long-only bet size from a calibrated probability of winning (AFML 10.1), in [0, 1]."""
    p = np.clip(np.asarray(p, dtype="float64"), 1e-9, 1 - 1e-9)
    z = (p - 0.5) / np.sqrt(p * (1 - p))
    return np.maximum(2 * norm.cdf(z) - 1, 0.0)


def triple_barrier(
    bars: pd.DataFrame,
    entry_date,
    entry_price: float,
    sigma: float,
    *,
    pt: float,
    sl: float,
    max_hold: int,
    cost: float = 0.0,
) -> tuple[pd.Timestamp, float, str]:
    """First barrier touched by a long trade entered at ``entry_price`` on ``entry_date``.

    Parameters
    ----------
    bars : pandas.DataFrame
        ``high, low, close`` on the same price basis as ``entry_price``.
    sigma : float
        Daily σ (fraction) at the signal date.
    pt, sl : float
        Barriers in multiples of σ.
    max_hold : int
        Time limit, sessions from the entry (inclusive).
    cost : float
        Round-trip cost (fraction) subtracted from the return.

    Returns
    -------
    (t1, net_return, barrier)
        Date the label ends, net return (fraction) and ``"alvo"``, ``"stop"`` or ``"tempo"``.
    """
    after = bars.loc[bars.index >= pd.Timestamp(entry_date)].iloc[:max_hold]
    if after.empty:
        raise InputError("Sem barras após a entrada.")
    up = entry_price * (1 + pt * sigma)
    dn = entry_price * (1 - sl * sigma)
    for t, row in after.iterrows():
        if row["low"] <= dn:  # both in one bar: the stop first (conservative)
            return t, (dn / entry_price - 1) - cost, "stop"
        if row["high"] >= up:
            return t, (up / entry_price - 1) - cost, "alvo"
    t = after.index[-1]
    return t, float(after["close"].iloc[-1] / entry_price - 1) - cost, "tempo"


def _uniqueness(spans: list[tuple[pd.Timestamp, pd.Timestamp]], sessions: pd.DatetimeIndex):
    """Average uniqueness of each label span over ``sessions`` (AFML 4.4)."""
    pos = {d: i for i, d in enumerate(sessions)}
    conc = np.zeros(len(sessions))
    idx = []
    for a, b in spans:
        i, j = pos.get(a), pos.get(b)
        idx.append((i, j))
        if i is not None and j is not None:
            conc[i : j + 1] += 1
    out = []
    for i, j in idx:
        if i is None or j is None:
            out.append(1.0)
        else:
            out.append(float(np.mean(1.0 / conc[i : j + 1])))
    return np.asarray(out)


def _sharpe(ret: np.ndarray, years: float) -> float:
    if len(ret) < 2 or not ret.std(ddof=1) > 0:
        return float("nan")
    per_year = len(ret) / max(years, 1e-9)
    return float(ret.mean() / ret.std(ddof=1) * np.sqrt(per_year))


def _side(ret: np.ndarray, take: np.ndarray, years: float) -> dict:
    r = ret * take
    n_taken = int((take > 0).sum())
    won = ret[take > 0] > 0
    return {
        "trades": int(len(ret)),
        "taken": n_taken,
        "win_rate": float(won.mean()) if n_taken else float("nan"),
        "mean_return": float(r.mean()) if len(r) else float("nan"),
        "sharpe": _sharpe(r, years),
    }


def _collect_trades(
    store: Store, req: MetaRequest, progress: Progress | None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    from core.backtest.costs import B3_DEFAULT
    from core.backtest.runner import run_backtest
    from core.ml.features import BASE_FEATURES, INDEX_FEATURES, build_features

    tickers = [t.upper() for t in req.tickers] or store.tickers("stock")
    if not tickers:
        raise InputError("Não há ações no banco.")
    idx = None
    if "^BVSP" in store.tickers():
        idx = store.bars("^BVSP")
    feats = list(BASE_FEATURES) + (list(INDEX_FEATURES) if idx is not None else [])
    cost = 2 * (B3_DEFAULT.swing_fee_rate + B3_DEFAULT.slippage_bps / 10_000)
    rows, frames = [], {}
    for i, t in enumerate(tickers):
        if progress:
            progress(0.5 * i / len(tickers), f"Operações da estratégia base: {t}")
        # labels are total returns: the base trades are run on the dividend-adjusted series
        # (the engine's labelled approximation), the same basis as the barrier path below
        res = run_backtest(store, req.strategy, [t], params=req.params or None, adjusted=True)
        tr = res.trades
        if tr is None or tr.empty:
            continue
        tr = tr[tr["direction"].astype(str).str.lower().isin(["long", "compra", "1"])]
        if tr.empty:
            continue
        bars = store.bars(t)
        # the base trades above are on the adjusted series: the same basis here
        k = bars["adj_close"] / bars["close"]
        adj = pd.DataFrame(
            {"high": bars["high"] * k, "low": bars["low"] * k, "close": bars["adj_close"]}
        )
        X = build_features(bars, idx, features=feats)
        sig_vol = adj["close"].pct_change().rolling(req.vol_window).std()
        frames[t] = adj
        spans = []
        for r in tr.itertuples(index=False):
            entry = pd.Timestamp(r.entry_date)
            before = adj.index[adj.index < entry]
            if len(before) == 0:
                continue
            sd = before[-1]
            sigma = sig_vol.get(sd, np.nan)
            if not sigma > 0 or X.loc[sd].isna().any():
                continue
            t1, ret, barrier = triple_barrier(
                adj,
                entry,
                float(r.entry_price),
                float(sigma),
                pt=req.pt,
                sl=req.sl,
                max_hold=req.max_hold,
                cost=cost,
            )
            spans.append((entry, t1))
            rows.append(
                {
                    "ticker": t,
                    "signal_date": sd,
                    "entry_date": entry,
                    "t1": t1,
                    "ret": ret,
                    "barrier": barrier,
                    "label": int(ret > 0),
                    "engine_return": float(r.return_pct) / 100.0,
                    **X.loc[sd].to_dict(),
                }
            )
        if spans:
            u = _uniqueness(spans, adj.index)
            for j, w in enumerate(u):
                rows[len(rows) - len(spans) + j]["weight"] = w
    if not rows:
        raise InputError(
            f"A estratégia {req.strategy} não gerou operações compradas nos ativos escolhidos."
        )
    df = pd.DataFrame(rows).sort_values(["signal_date", "ticker"], kind="stable")
    df["weight"] = df["weight"] / df["weight"].mean()
    return df.reset_index(drop=True), frames, idx


def meta_label(
    store: Store,
    request: MetaRequest = MetaRequest(),
    gates: MetaGates = MetaGates(),
    *,
    progress: Progress | None = None,
) -> MetaResult:
    """Meta-label a base strategy's trades and test the filter out of sample (module doc).

    Parameters
    ----------
    store : Store
    request : MetaRequest
    gates : MetaGates
    progress : callable(fraction, message), optional

    Returns
    -------
    MetaResult

    Raises
    ------
    InputError
        On a bad request, no trades, or too few trades for the folds.
    """
    from sklearn.metrics import roc_auc_score

    from core.ml.features import FEATURE_DOCS
    from core.ml.models import make_model

    t0 = time.perf_counter()
    request.validate()
    df, _frames, _idx = _collect_trades(store, request, progress)
    feat_cols = [c for c in df.columns if c in FEATURE_DOCS]
    n = len(df)
    k = request.folds
    size = n // (k + 1)
    if size < 5:
        raise InputError(
            f"Só {n} operações da estratégia {request.strategy}: poucas para {k} dobras "
            "(mínimo 5 operações por dobra)."
        )
    X = df[feat_cols].to_numpy(dtype="float64")
    y = df["label"].to_numpy()
    w = df["weight"].to_numpy()
    p = np.full(n, np.nan)
    fold_of = np.zeros(n, dtype=int)
    folds: list[dict[str, Any]] = []
    for f in range(k):
        if progress:
            progress(0.5 + 0.45 * f / k, f"Modelo secundário: dobra {f + 1} de {k}")
        te = np.arange(size * (f + 1), size * (f + 2) if f < k - 1 else n)
        start = df["signal_date"].iloc[te[0]]
        tr = np.flatnonzero((np.arange(n) < te[0]) & (df["t1"].to_numpy() < start))  # purge
        if len(tr) < 10 or len(np.unique(y[tr])) < 2:
            continue
        pipe = make_model(request.model, calibration=request.calibration, n_rows=len(tr))
        try:
            pipe.fit(X[tr], y[tr], model__sample_weight=w[tr])
        except (TypeError, ValueError):
            pipe.fit(X[tr], y[tr])
        proba = pipe.predict_proba(X[te])
        cls = list(pipe.named_steps["model"].classes_)
        p[te] = proba[:, cls.index(1)] if 1 in cls else 0.0
        fold_of[te] = f + 1
        yt = y[te]
        maj = int(np.bincount(y[tr], minlength=2).argmax())
        folds.append(
            {
                "fold": f + 1,
                "n_train": int(len(tr)),
                "n_test": int(len(te)),
                "accuracy": float(((p[te] >= 0.5).astype(int) == yt).mean()),
                "roc_auc": float(roc_auc_score(yt, p[te])) if len(np.unique(yt)) == 2 else None,
                "base_accuracy": float((yt == maj).mean()),
            }
        )
    oos = df.assign(fold=fold_of, p=p)[~np.isnan(p)].reset_index(drop=True)
    if oos.empty:
        raise InputError("Nenhuma dobra com operações suficientes das duas classes.")
    yo = oos["label"].to_numpy()
    po = oos["p"].to_numpy()
    take = (po >= request.threshold).astype(float)
    sz = bet_size(po)
    oos["take"] = take.astype(bool)
    oos["size"] = sz
    ret = oos["ret"].to_numpy()
    years = max((oos["t1"].max() - oos["signal_date"].min()).days / 365.25, 1 / 12)
    comparison = {
        "without": _side(ret, np.ones(len(ret)), years),
        "with_filter": _side(ret, take, years),
        "sized": _side(ret, sz, years),
    }
    acc = float(((po >= 0.5).astype(int) == yo).mean())
    auc = float(roc_auc_score(yo, po)) if len(np.unique(yo)) == 2 else float("nan")
    base_wr = float(yo.mean())
    n_take = int(take.sum())
    k_take = int(yo[take > 0].sum())
    p_wr = (
        float(binomtest(k_take, n_take, min(max(base_wr, 1e-9), 1 - 1e-9), "greater").pvalue)
        if n_take
        else float("nan")
    )
    accs = np.array([f["accuracy"] for f in folds])
    consistency = float(1 - accs.std()) if len(accs) > 1 else float("nan")
    share = float(np.mean([f["accuracy"] > f["base_accuracy"] for f in folds])) if folds else 0.0
    metrics = {
        "accuracy": acc,
        "roc_auc": auc,
        "brier": float(np.mean((po - yo) ** 2)),
        "base_win_rate": base_wr,
        "filtered_win_rate": comparison["with_filter"]["win_rate"],
        "p_value": p_wr,
        "consistency": consistency,
        "fold_share": share,
    }
    wr_f = comparison["with_filter"]["win_rate"]
    sh_w, sh_wo = comparison["with_filter"]["sharpe"], comparison["without"]["sharpe"]
    g = gates
    checks = [
        (
            "min_trades",
            "Operações fora da amostra",
            float(len(oos)),
            g.min_trades,
            "≥",
            len(oos) >= g.min_trades,
        ),
        (
            "min_accuracy",
            "Acurácia fora da amostra",
            acc,
            g.min_accuracy,
            "≥",
            acc >= g.min_accuracy,
        ),
        ("min_roc_auc", "ROC-AUC", auc, g.min_roc_auc, "≥", auc >= g.min_roc_auc),
        (
            "min_win_rate_gain",
            "Taxa de acerto com filtro ≥ base + ganho",
            wr_f,
            base_wr + g.min_win_rate_gain,
            "≥",
            wr_f >= base_wr + g.min_win_rate_gain,
        ),
        (
            "min_consistency",
            "Consistência (1 − desvio das dobras)",
            consistency,
            g.min_consistency,
            "≥",
            consistency >= g.min_consistency,
        ),
    ]
    if g.sharpe_improves:
        checks.append(("sharpe_improves", "Sharpe com ML > sem ML", sh_w, sh_wo, ">", sh_w > sh_wo))
    gate_rows = [
        {"gate": a, "label": b, "value": v, "threshold": th, "comparison": c, "passed": bool(ok)}
        for a, b, v, th, c, ok in checks
    ]
    passed = all(r["passed"] for r in gate_rows)
    failed = [r["label"] for r in gate_rows if not r["passed"]]
    message = (
        f"Filtro de ML para {request.strategy} aprovado nas regras da semente 002."
        if passed
        else f"Filtro de ML para {request.strategy} REPROVADO nas regras da semente 002: "
        f"falhou em {', '.join(failed)}."
    )
    if progress:
        progress(1.0, "Meta-rotulagem concluída")
    keep = [
        "ticker",
        "signal_date",
        "entry_date",
        "t1",
        "barrier",
        "ret",
        "label",
        "weight",
        "fold",
        "p",
        "take",
        "size",
    ]
    return MetaResult(
        request={**asdict(request), "tickers": list(request.tickers)},
        n_trades=int(n),
        n_oos=int(len(oos)),
        metrics=metrics,
        folds=folds,
        comparison=comparison,
        gates=gate_rows,
        passed=passed,
        message=message,
        trades=oos[keep],
        seconds=time.perf_counter() - t0,
    )
