"""Statistics that decide what a model may claim: paired tests, multiplicity, power, drift.

One module so that every page, the CLI and the registry show and use the same figures.

* :func:`reported_p` — the one p-value shown everywhere for "model beats its best
  baseline": the larger of the exact binomial p and the date-clustered p (pooled rows of
  one date are correlated, so the binomial alone is optimistic);
* :func:`holm_adjust` — Holm (1979) step-down adjustment for the family of models tried;
* :func:`mcnemar_greater` — exact one-sided McNemar (1947) test on paired hits;
* :func:`clustered_mean_p` — one-sided t-test across dates of per-date mean differences;
* :func:`diebold_mariano` — Diebold & Mariano (1995) test of equal predictive loss on
  per-date mean loss differentials with a Newey–West (1987) long-run variance;
* :func:`minimum_detectable_effect` / :func:`power_at` — normal-approximation power of the
  one-sided binomial test (α = 5 %, power 80 %) with the design effect of date clustering;
* :func:`cluster_weights` — bootstrap multiplicities that resample whole dates
  (date-clustered bootstrap, Cameron, Gelbach & Miller 2008 style);
* :func:`calibrate_cusum` / :func:`cusum` — a one-sided CUSUM (Page 1954) on the per-date
  log-loss of the model minus that of the base-rate forecast, its threshold set by a
  stationary block bootstrap of the model's own out-of-sample history so that the chance
  of a false alarm within ``horizon`` sessions is ``alpha``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TypeGuard

import numpy as np
import pandas as pd
from scipy.stats import binom, norm
from scipy.stats import t as student_t

__all__ = [
    "ALPHA",
    "reported_p",
    "holm_adjust",
    "mcnemar_greater",
    "clustered_mean_p",
    "diebold_mariano",
    "minimum_detectable_effect",
    "power_at",
    "design_effect",
    "cluster_weights",
    "CusumSpec",
    "calibrate_cusum",
    "cusum",
    "binary_log_loss",
    "p_verdict",
]

#: Significance level used by every gate and verdict (one-sided).
ALPHA = 0.05


def _finite(x: object) -> TypeGuard[float]:
    return x is not None and isinstance(x, int | float | np.floating) and math.isfinite(float(x))


def reported_p(summary: dict) -> float:
    """The p-value shown and gated everywhere: max(binomial, date-clustered).

    Parameters
    ----------
    summary : dict
        :meth:`core.ml.evaluation.ModelEvaluation.summary` (keys ``p_value`` and,
        optionally, ``p_value_dates``).

    Returns
    -------
    float
        In [0, 1]; NaN when no p-value is available.
    """
    ps = [float(v) for v in (summary.get("p_value"), summary.get("p_value_dates")) if _finite(v)]
    return max(ps) if ps else float("nan")


def p_verdict(summary: dict) -> str:
    """The one pt-BR sentence for "beats its best baseline", used by page, CLI and registry.

    ``"p = 0,166 (maior entre binomial 0,017 e agrupado por data 0,166): não significativo
    a 5 %"``.
    """
    from core.textfmt import num

    p = reported_p(summary)
    pb, pdt = summary.get("p_value"), summary.get("p_value_dates")
    parts = []
    if _finite(pb):
        parts.append(f"binomial {num(pb, 3)}")
    if _finite(pdt):
        parts.append(f"agrupado por data {num(pdt, 3)}")
    src = f" (maior entre {' e '.join(parts)})" if len(parts) == 2 else ""
    if p != p:
        return "p indisponível"
    verdict = "significativo a 5 %" if p <= ALPHA else "não significativo a 5 %"
    return f"p = {num(p, 3)}{src}: {verdict}"


def holm_adjust(pvalues) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (same order as the input).

    ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))`` over the sorted p-values; NaN
    entries are ignored (and stay NaN) and do not count in ``m``.
    """
    p = np.asarray(pvalues, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for j, idx in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[idx]))
        out[idx] = running
    return out


def mcnemar_greater(hit_a, hit_b) -> tuple[float, int, int]:
    """Exact one-sided McNemar test that ``a`` is right more often than ``b`` on paired rows.

    Returns
    -------
    (p, b, c)
        ``b`` rows where only ``a`` is right, ``c`` where only ``b`` is; ``p = P(X ≥ b)``
        for ``X ~ Binomial(b + c, 1/2)`` (1.0 when there is no discordant pair).
    """
    a = np.asarray(hit_a, dtype=bool)
    b_ = np.asarray(hit_b, dtype=bool)
    nb = int((a & ~b_).sum())
    nc = int((~a & b_).sum())
    if nb + nc == 0:
        return 1.0, nb, nc
    return float(binom.sf(nb - 1, nb + nc, 0.5)), nb, nc


def clustered_mean_p(diff, dates) -> float:
    """One-sided t-test that the per-date mean of ``diff`` is > 0 (NaN with < 3 dates)."""
    per_date = pd.Series(np.asarray(diff, dtype="float64")).groupby(np.asarray(dates)).mean()
    x = per_date.to_numpy()
    n = len(x)
    sd = x.std(ddof=1) if n > 1 else 0.0
    if n < 3 or not sd > 0:
        return float("nan")
    return float(student_t.sf(x.mean() / (sd / math.sqrt(n)), n - 1))


def diebold_mariano(loss_a, loss_b, dates, *, lag: int = 0) -> tuple[float, float]:
    """Diebold–Mariano test that ``a`` has the lower expected loss (one-sided).

    The loss differential ``d = loss_b − loss_a`` (positive: ``a`` better) is averaged
    within each date, then ``DM = mean / sqrt(LRV / T)`` with a Newey–West long-run
    variance of ``lag`` lags (``horizon − 1`` for ``horizon``-step forecasts) and the
    Harvey, Leybourne & Newbold (1997) small-sample factor; p from Student's t(T − 1).

    Returns
    -------
    (statistic, p)
        NaN when fewer than 3 dates or zero variance.
    """
    d = pd.Series(np.asarray(loss_b, float) - np.asarray(loss_a, float))
    x = d.groupby(np.asarray(dates)).mean().to_numpy()
    T = len(x)
    if T < 3:
        return float("nan"), float("nan")
    xc = x - x.mean()
    lrv = float(xc @ xc / T)
    for k in range(1, lag + 1):
        w = 1 - k / (lag + 1)
        lrv += 2 * w * float(xc[k:] @ xc[:-k] / T)
    if not lrv > 0:
        return float("nan"), float("nan")
    stat = x.mean() / math.sqrt(lrv / T)
    h = lag + 1
    stat *= math.sqrt((T + 1 - 2 * h + h * (h - 1) / T) / T)
    return float(stat), float(student_t.sf(stat, T - 1))


def design_effect(hits, dates) -> float:
    """Variance inflation of a mean of ``hits`` when rows of one date move together (≥ 1).

    Ratio of the date-clustered (sandwich) variance of the mean to the iid variance.
    """
    h = np.asarray(hits, dtype="float64")
    n = len(h)
    if n < 2:
        return 1.0
    r = pd.Series(h - h.mean()).groupby(np.asarray(dates)).sum().to_numpy()
    v_cl = float((r**2).sum()) / n**2
    v_iid = float(h.var()) / n
    return max(1.0, v_cl / v_iid) if v_iid > 0 else 1.0


def power_at(p1: float, n: float, p0: float, alpha: float = ALPHA) -> float:
    """Power of the one-sided test of "accuracy > p0" at a true accuracy ``p1`` with ``n`` rows."""
    if n <= 0:
        return float("nan")
    crit = p0 + norm.ppf(1 - alpha) * math.sqrt(p0 * (1 - p0) / n)
    return float(norm.sf((crit - p1) / math.sqrt(p1 * (1 - p1) / n)))


@dataclass(frozen=True)
class MDE:
    """Minimum detectable effect of an evaluation.

    Attributes
    ----------
    n, n_effective : rows and rows after the date-clustering design effect.
    baseline : accuracy of the best baseline (fraction).
    accuracy : smallest true accuracy detected with ``power`` (fraction).
    effect : ``accuracy − baseline`` (fraction).
    power_55 : chance of detecting a true 55 % accuracy.
    """

    n: int
    n_effective: float
    baseline: float
    accuracy: float
    effect: float
    power_55: float
    alpha: float = ALPHA
    power: float = 0.80

    def as_dict(self) -> dict:
        """JSON-friendly dict."""
        return asdict(self)


def minimum_detectable_effect(
    n: int, p0: float, *, deff: float = 1.0, alpha: float = ALPHA, power: float = 0.80
) -> MDE:
    """Smallest true accuracy the one-sided test against ``p0`` detects with ``power``.

    Parameters
    ----------
    n : int
        Out-of-sample rows.
    p0 : float
        Baseline accuracy (fraction, 0 < p0 < 1).
    deff : float
        Design effect (:func:`design_effect`); ``n / deff`` rows count.

    Returns
    -------
    MDE
    """
    n_eff = n / max(deff, 1.0)
    p0 = min(max(p0, 1e-6), 1 - 1e-6)
    lo, hi = p0, 1.0
    for _ in range(60):  # bisection on the monotone power curve
        mid = (lo + hi) / 2
        if power_at(mid, n_eff, p0, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return MDE(
        n=int(n),
        n_effective=float(n_eff),
        baseline=float(p0),
        accuracy=float(hi),
        effect=float(hi - p0),
        power_55=power_at(0.55, n_eff, p0, alpha) if p0 < 0.55 else float("nan"),
        alpha=alpha,
        power=power,
    )


def cluster_weights(date_codes: np.ndarray, n_dates: int, rng: np.random.Generator) -> np.ndarray:
    """Row weights of one date-clustered bootstrap draw (each date drawn with replacement)."""
    counts = np.bincount(rng.integers(0, n_dates, n_dates), minlength=n_dates)
    return counts[date_codes].astype("float64")


def binary_log_loss(p_up, y_up) -> np.ndarray:
    """Per-row log loss of a probability of "up" against 0/1 outcomes (clipped at 1e-15)."""
    p = np.clip(np.asarray(p_up, dtype="float64"), 1e-15, 1 - 1e-15)
    y = np.asarray(y_up, dtype="float64")
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@dataclass(frozen=True)
class CusumSpec:
    """A one-sided CUSUM on standardised per-date log-loss differentials.

    ``z_t = (d_t − mean) / sd`` with ``d_t`` the per-date mean of (model log loss − base-rate
    log loss); ``S_t = max(0, S_{t−1} + z_t − k)``; alarm when ``S_t > h``.
    """

    mean: float
    sd: float
    k: float
    h: float
    horizon: int
    alpha: float
    n_history: int

    def as_dict(self) -> dict:
        """JSON-friendly dict."""
        return asdict(self)


def cusum(d, spec: CusumSpec) -> np.ndarray:
    """CUSUM path ``S_t`` of the per-date differentials ``d`` (same length)."""
    z = (np.asarray(d, dtype="float64") - spec.mean) / spec.sd
    s = np.empty(len(z))
    acc = 0.0
    for i, v in enumerate(z):
        acc = max(0.0, acc + v - spec.k)
        s[i] = acc
    return s


def _block_paths(x: np.ndarray, length: int, n_paths: int, block: int, rng) -> np.ndarray:
    n = len(x)
    nb = -(-length // block)
    starts = rng.integers(0, n, (n_paths, nb))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n  # circular blocks
    return x[idx.reshape(n_paths, -1)[:, :length]]


def calibrate_cusum(
    d,
    *,
    horizon: int = 250,
    alpha: float = ALPHA,
    k: float = 0.5,
    n_paths: int = 2000,
    block: int = 20,
    seed: int = 0,
) -> CusumSpec | None:
    """Threshold ``h`` so that P(false alarm within ``horizon`` sessions) = ``alpha``.

    ``h`` is the larger of the ``1 − alpha`` quantile of the CUSUM peak over ``horizon``
    sessions in circular block-bootstrap paths of the history and the same quantile over
    every ``horizon``-long window of the history itself (which keeps slow regime changes a
    short-block bootstrap misses).

    Parameters
    ----------
    d : array-like
        Per-date differentials of the model's out-of-sample history (in control).
    horizon : int
        Monitoring period (sessions) over which the false-alarm rate is controlled.
    alpha, k : float
        False-alarm probability; CUSUM reference value (in standard deviations).
    n_paths, block, seed : int
        Circular block bootstrap (block length in sessions keeps short autocorrelation).

    Returns
    -------
    CusumSpec or None
        None with fewer than 60 dates.
    """
    x = np.asarray(d, dtype="float64")
    x = x[np.isfinite(x)]
    if len(x) < 60 or not x.std() > 0:
        return None
    mu, sd = float(x.mean()), float(x.std(ddof=1))
    rng = np.random.default_rng(seed)
    paths = (_block_paths(x, horizon, n_paths, block, rng) - mu) / sd
    s = np.zeros(n_paths)
    peak = np.zeros(n_paths)
    for t in range(horizon):
        s = np.maximum(0.0, s + paths[:, t] - k)
        peak = np.maximum(peak, s)
    h = float(np.quantile(peak, 1 - alpha))
    # The block bootstrap misses slow regime changes; the history's own windows keep them.
    # Take the larger threshold, so the false-alarm rate on that history is ≤ alpha too.
    if len(x) >= horizon + 20:
        win = np.lib.stride_tricks.sliding_window_view((x - mu) / sd, horizon)
        s = np.zeros(len(win))
        peak = np.zeros(len(win))
        for t in range(horizon):
            s = np.maximum(0.0, s + win[:, t] - k)
            peak = np.maximum(peak, s)
        h = max(h, float(np.quantile(peak, 1 - alpha)))
    return CusumSpec(mu, sd, k, h, int(horizon), float(alpha), int(len(x)))
