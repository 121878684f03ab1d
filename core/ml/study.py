"""The seed study: IBOVESPA next-day direction, reproduced beside the seed's own table.

Protocol (as the seed describes it)
-----------------------------------
* data: investing.com IBOVESPA, 2011-01-03..2025-06-30 (3,592 sessions, bundled as
  ``core/data/bundled/investing/ibovespa_2011-01-03_2025-06-30.csv.gz``);
* target: next-day direction (up if the log return > 0);
* inputs: 20 base features (:data:`core.ml.features.SEED_FEATURES`) × a 5-session window =
  100 columns; StandardScaler fitted on the training rows only (inside the pipeline);
* split: the last 30 sessions are the test set; of the rest, the last 20 % are the
  validation (holdout) set and the first 80 % the training set; plus a 3-fold expanding
  walk-forward over everything before the test set;
* models: XGBoost (100 trees, depth 3, lr 0.15, subsample 0.8, colsample 0.8, gamma 0.1,
  alpha 0.001, lambda 1), LightGBM (100 trees, depth 6, lr 0.1, subsample 0.8, colsample
  0.8, alpha 0.1, lambda 10; LightGBM ignores ``subsample`` unless ``subsample_freq > 0``
  and the seed did not set it, so neither do we), logistic regression (lbfgs, 1000 iter).

The seed does not list its 20 features; ours are documented in :mod:`core.ml.features`.
We report, for each model: holdout (validation) accuracy and F1 with bootstrap 95 % CIs and
n, the 30-session test accuracy with its CI, walk-forward mean ± std, the baselines on the
same rows and the one-sided binomial p-value against the best baseline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from core.data.bundled import BUNDLED_DIR, read_yahoo_csv
from core.errors import DataFormatError, InputError
from core.ml.evaluation import (
    Dataset,
    _proba_full,
    bootstrap_metrics,
    build_dataset,
    fit_pipeline,
)
from core.ml.features import SEED_FEATURES
from core.ml.targets import TargetSpec
from core.ml.validation import WalkForwardSplit

__all__ = [
    "SEED_CSV",
    "SEED_TABLE",
    "SEED_MODELS",
    "read_price_file",
    "read_investing_csv",
    "seed_ibov_study",
    "study_markdown",
]

Progress = Callable[[float, str], None]

SEED_CSV = BUNDLED_DIR / "investing" / "ibovespa_2011-01-03_2025-06-30.csv.gz"

#: The seed's published figures (fractions); None where the seed gives none.
SEED_TABLE: dict[str, dict[str, Any]] = {
    "logreg": {"holdout_accuracy": 0.5064, "holdout_f1": 0.3823, "wf_mean": None, "wf_std": None},
    "xgboost": {
        "holdout_accuracy": 0.5375,
        "holdout_f1": 0.4734,
        "wf_mean": 0.5253,
        "wf_std": 0.0165,
    },
    "lightgbm": {
        "holdout_accuracy": 0.5205,
        "holdout_f1": 0.4084,
        "wf_mean": 0.5256,
        "wf_std": 0.0198,
    },
}

#: The seed's models and parameters.
SEED_MODELS: dict[str, dict[str, Any]] = {
    "logreg": {"solver": "lbfgs", "max_iter": 1000},
    "xgboost": {
        "n_estimators": 100,
        "max_depth": 3,
        "learning_rate": 0.15,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "gamma": 0.1,
        "reg_alpha": 0.001,
        "reg_lambda": 1.0,
    },
    "lightgbm": {
        "n_estimators": 100,
        "max_depth": 6,
        "num_leaves": 31,
        "learning_rate": 0.1,
        "subsample": 0.8,
        "subsample_freq": 0,
        "colsample_bytree": 0.8,
        "reg_alpha": 0.1,
        "reg_lambda": 10.0,
    },
}


def _num_br(s: pd.Series) -> pd.Series:
    return pd.to_numeric(
        s.astype(str)
        .str.strip()
        .str.replace(".", "", regex=False)
        .str.replace(",", ".", regex=False),
        errors="coerce",
    )


def _volume(s: pd.Series) -> pd.Series:
    mult = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
    txt = s.astype(str).str.strip()
    suffix = txt.str[-1].str.upper()
    base = _num_br(txt.where(~suffix.isin(list(mult)), txt.str[:-1]))
    return (base * suffix.map(mult).fillna(1.0).astype(float)).fillna(0.0)


def read_investing_csv(path: str | Path) -> pd.DataFrame:
    """Read an investing.com Portuguese CSV (``"Data","Último","Abertura",...``) into bars.

    Dates ``dd.mm.yyyy``; prices with ``.`` thousands and ``,`` decimals; volume with a
    ``K``/``M``/``B`` suffix. ``adj_close = close`` (an index has no dividends).

    Raises
    ------
    DataFormatError
        On missing columns or unparsable dates (naming the file).
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"Não foi possível ler {path.name}: {exc}", str(path), None) from exc
    need = ["Data", "Último", "Abertura", "Máxima", "Mínima"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise DataFormatError(
            f"Arquivo {path.name} sem as colunas {', '.join(missing)} (formato investing.com).",
            str(path),
            1,
        )
    dates = pd.to_datetime(raw["Data"], format="%d.%m.%Y", errors="coerce")
    if dates.isna().any():
        line = int(np.flatnonzero(dates.isna())[0]) + 2
        raise DataFormatError(f"Data inválida na linha {line} de {path.name}.", str(path), line)
    close = _num_br(raw["Último"])
    out = pd.DataFrame(
        {
            "open": _num_br(raw["Abertura"]).to_numpy(),
            "high": _num_br(raw["Máxima"]).to_numpy(),
            "low": _num_br(raw["Mínima"]).to_numpy(),
            "close": close.to_numpy(),
            "adj_close": close.to_numpy(),
            "volume": _volume(raw["Vol."]).to_numpy() if "Vol." in raw else 0.0,
        },
        index=pd.DatetimeIndex(dates, name="date").astype("datetime64[ns]"),
    ).astype("float64")
    out = out.sort_index()
    return out[~out.index.duplicated(keep="last")]


def read_price_file(path: str | Path) -> pd.DataFrame:
    """Read a daily price file (investing.com Portuguese CSV or Yahoo CSV, optionally .gz).

    This is the single place the ML commands read user files; at merge time it switches to
    the data layer's shared reader (``core.data.sources.csvfile``).

    Raises
    ------
    InputError
        When the file does not exist.
    DataFormatError
        When the format is not recognised.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Arquivo não encontrado: {path}.")
    head = pd.read_csv(path, nrows=1, dtype=str, encoding="utf-8-sig")
    cols = [c.strip() for c in head.columns]
    if "Último" in cols or "Data" in cols:
        return read_investing_csv(path)
    if "Date" in cols or "Price" in cols:
        try:
            bars = read_yahoo_csv(path)
        except (KeyError, ValueError) as exc:
            raise DataFormatError(
                f"CSV do Yahoo inválido ({path.name}): {exc}", str(path), None
            ) from exc
        # Yahoo's placeholder rows (volume 0, flat, repeating the previous close; SOURCES.md)
        flat = (bars["open"] == bars["close"]) & (bars["high"] == bars["low"])
        placeholder = (bars["volume"] <= 0) & flat & (bars["close"] == bars["close"].shift(1))
        return bars[~placeholder]
    raise DataFormatError(
        f"Formato de {path.name} não reconhecido (esperado investing.com ou Yahoo).", str(path), 1
    )


def _acc_ci(correct: np.ndarray, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n = len(correct)
    b = correct[rng.integers(0, n, (n_boot, n))].mean(axis=1)
    lo, hi = np.percentile(b, [2.5, 97.5])
    return float(lo), float(hi)


def _baselines(ds: Dataset, train: np.ndarray, test: np.ndarray) -> dict[str, float]:
    y = ds.y[test]
    maj = int(np.bincount(ds.y[train], minlength=2).argmax())
    return {
        "majority": float((y == maj).mean()),
        "always_up": float((y == 1).mean()),
        "previous": float((ds.prev[test] == y).mean()),
    }


def _score(ds: Dataset, model: str, train: np.ndarray, test: np.ndarray) -> dict:
    pipe = fit_pipeline(model, ds.X.iloc[train], ds.y[train], SEED_MODELS[model])
    proba = _proba_full(pipe, ds.X.iloc[test], 2)
    y = ds.y[test]
    m = bootstrap_metrics(y, proba, 2, n_boot=300)
    correct = (proba.argmax(axis=1) == y).astype(float)
    base = _baselines(ds, train, test)
    best = max(base, key=lambda k: base[k])
    p = float(
        binomtest(
            int(correct.sum()), len(y), min(max(base[best], 1e-9), 1 - 1e-9), alternative="greater"
        ).pvalue
    )
    return {
        "n": int(len(y)),
        "start": ds.dates[test].min().strftime("%Y-%m-%d"),
        "end": ds.dates[test].max().strftime("%Y-%m-%d"),
        "accuracy": m["accuracy"],
        "f1": m["f1"],
        "roc_auc": m["roc_auc"],
        "baselines": base,
        "best_baseline": best,
        "p_value": p,
    }


def seed_ibov_study(path: str | Path | None = None, *, progress: Progress | None = None) -> dict:
    """Run the seed protocol (module docstring) and return our table beside the seed's.

    Parameters
    ----------
    path : str or Path, optional
        Price file (default: the bundled investing.com IBOVESPA file).
    progress : callable(fraction, message), optional

    Returns
    -------
    dict
        ``data`` (file, sessions, first/last date, rows after warm-up, n_inputs),
        ``split`` (sizes and dates), ``models`` (per model: ``holdout``, ``test30``,
        ``walk_forward`` (fold accuracies, mean, std, per-fold baselines)), ``seed``
        (:data:`SEED_TABLE`), ``verdict`` (list of sentences), ``seconds``.
    """
    t0 = time.perf_counter()
    path = Path(path) if path else SEED_CSV
    bars = read_price_file(path)
    ds = build_dataset({"IBOV": bars}, TargetSpec(), features=list(SEED_FEATURES), lookback=5)
    n = len(ds)
    if n < 300:
        raise InputError(f"Série curta demais para o estudo ({n} linhas).")
    test = np.arange(n - 30, n)
    rest = n - 30
    n_val = int(round(rest * 0.2))
    train = np.arange(0, rest - n_val)
    val = np.arange(rest - n_val, rest)
    wf_splits = list(WalkForwardSplit(3).split(rest))
    models = {}
    steps = len(SEED_MODELS) * (2 + len(wf_splits))
    step = 0

    def tick(msg: str) -> None:
        nonlocal step
        if progress:
            progress(step / steps, msg)
        step += 1

    for name in SEED_MODELS:
        tick(f"{name}: holdout")
        holdout = _score(ds, name, train, val)
        tick(f"{name}: teste de 30 sessões")
        test30 = _score(ds, name, np.arange(0, rest), test)
        folds = []
        for i, (tr, te) in enumerate(wf_splits):
            tick(f"{name}: walk-forward dobra {i + 1} de {len(wf_splits)}")
            s = _score(ds, name, tr, te)
            folds.append(
                {
                    "fold": i + 1,
                    "n": s["n"],
                    "start": s["start"],
                    "end": s["end"],
                    "accuracy": s["accuracy"]["value"],
                    "best_baseline": s["baselines"][s["best_baseline"]],
                    "p_value": s["p_value"],
                }
            )
        accs = np.array([f["accuracy"] for f in folds])
        # pooled walk-forward test: all fold predictions together
        models[name] = {
            "holdout": holdout,
            "test30": test30,
            "walk_forward": {
                "folds": folds,
                "mean": float(accs.mean()),
                "std": float(accs.std(ddof=0)),
                "baseline_mean": float(np.mean([f["best_baseline"] for f in folds])),
            },
        }
    if progress:
        progress(1.0, "Estudo concluído")
    verdict = _verdict(models)
    fair = seed_fair_test(models)
    return {
        "data": {
            "file": path.name,
            "sessions": int(len(bars)),
            "first": bars.index.min().strftime("%Y-%m-%d"),
            "last": bars.index.max().strftime("%Y-%m-%d"),
            "rows": n,
            "n_inputs": int(ds.X.shape[1]),
            "features": list(SEED_FEATURES),
            "lookback": 5,
        },
        "split": {
            "train": int(len(train)),
            "validation": int(len(val)),
            "test": int(len(test)),
            "train_dates": [
                ds.dates[train[0]].strftime("%Y-%m-%d"),
                ds.dates[train[-1]].strftime("%Y-%m-%d"),
            ],
            "validation_dates": [
                ds.dates[val[0]].strftime("%Y-%m-%d"),
                ds.dates[val[-1]].strftime("%Y-%m-%d"),
            ],
            "test_dates": [
                ds.dates[test[0]].strftime("%Y-%m-%d"),
                ds.dates[test[-1]].strftime("%Y-%m-%d"),
            ],
            "walk_forward_folds": 3,
        },
        "models": models,
        "seed": SEED_TABLE,
        "seed_fair_test": fair,
        "verdict": verdict + _fair_verdict(fair),
        "seconds": time.perf_counter() - t0,
    }


def seed_fair_test(models: dict) -> dict:
    """The seed's own holdout figures tested against the majority baseline on the same rows.

    For each model, ``k = round(seed accuracy × n)`` hits out of our holdout's ``n`` rows
    against ``p0`` = the majority class's accuracy on those rows, one-sided exact binomial
    test (e.g. XGBoost 380 of 707 vs 51.84 %: p ≈ 0.16), with the minimum detectable effect
    of that sample (:func:`core.ml.stats.minimum_detectable_effect`).

    Returns
    -------
    dict
        Per model: ``n, hits, seed_accuracy, majority, p_value, mde_accuracy, power_55``.
    """
    from core.ml.stats import minimum_detectable_effect

    out = {}
    for name, m in models.items():
        n = int(m["holdout"]["n"])
        acc = SEED_TABLE[name]["holdout_accuracy"]
        k = int(round(acc * n))
        p0 = float(m["holdout"]["baselines"]["majority"])
        p = float(binomtest(k, n, min(max(p0, 1e-9), 1 - 1e-9), alternative="greater").pvalue)
        mde = minimum_detectable_effect(n, p0)
        out[name] = {
            "n": n,
            "hits": k,
            "seed_accuracy": acc,
            "majority": p0,
            "p_value": p,
            "mde_accuracy": mde.accuracy,
            "power_55": mde.power_55,
        }
    return out


def _fair_verdict(fair: dict) -> list[str]:
    return [
        "Fair test of the seed's own figures against the majority baseline on the same rows: "
        + "; ".join(
            f"{name} {f['hits']}/{f['n']} vs {f['majority']:.2%}: p = {f['p_value']:.2f}"
            for name, f in fair.items()
        )
        + ". None is significant at 5 %; with this sample the smallest accuracy detected "
        f"80 % of the time is about {max(f['mde_accuracy'] for f in fair.values()):.1%}, and a "
        f"true 55 % is detected only {min(f['power_55'] for f in fair.values()):.0%} of the time."
        if all(f["p_value"] > 0.05 for f in fair.values())
        else "Fair test of the seed's own figures against the majority baseline: "
        + "; ".join(
            f"{name} {f['hits']}/{f['n']} vs {f['majority']:.2%}: p = {f['p_value']:.3f}"
            for name, f in fair.items()
        )
        + "."
    ]


def _verdict(models: dict) -> list[str]:
    out = []
    sig = [
        (name, part)
        for name, m in models.items()
        for part in ("holdout", "test30")
        if m[part]["p_value"] < 0.05
    ]
    sig_wf = [
        (name, f["fold"])
        for name, m in models.items()
        for f in m["walk_forward"]["folds"]
        if f["p_value"] < 0.05
    ]
    if not sig and not sig_wf:
        out.append(
            "No model beats the best naive baseline significantly (one-sided binomial test, "
            "5 %) on the holdout, on the 30-session test or on any walk-forward fold: there "
            "is no demonstrated edge in next-day IBOVESPA direction."
        )
    else:
        out.append(
            "Significant at 5 % before any correction for multiple comparisons: "
            + ", ".join(f"{n} {p}" for n, p in sig)
            + (", " if sig and sig_wf else "")
            + ", ".join(f"{n} walk-forward fold {f}" for n, f in sig_wf)
            + f". With {3 * (2 + 3)} tests run, a few p < 0.05 are expected by chance alone."
        )
    t30 = models["xgboost"]["test30"]["accuracy"]
    out.append(
        f"The 30-session test is too small to say anything: its 95 % CI spans "
        f"{t30['lo']:.0%}–{t30['hi']:.0%}."
    )
    for name in ("xgboost", "lightgbm"):
        wf = models[name]["walk_forward"]
        out.append(
            f"{name} walk-forward: the seed reports {SEED_TABLE[name]['wf_mean']:.2%} ± "
            f"{SEED_TABLE[name]['wf_std']:.2%}; we get {wf['mean']:.2%} ± {wf['std']:.2%}, "
            f"while the best naive baseline averages {wf['baseline_mean']:.2%} on the same "
            "folds: the seed's walk-forward figures are about what always-up / majority "
            "already scores, not an edge."
        )
    for name, m in models.items():
        s = SEED_TABLE[name]
        h = m["holdout"]["accuracy"]
        inside = h["lo"] <= s["holdout_accuracy"] <= h["hi"]
        out.append(
            f"{name}: our holdout accuracy {h['value']:.2%} (95 % CI {h['lo']:.2%}–{h['hi']:.2%}, "
            f"n={m['holdout']['n']}) vs the seed's {s['holdout_accuracy']:.2%}: the seed's figure "
            + ("lies inside our CI." if inside else "lies outside our CI.")
        )
    return out


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def study_markdown(res: dict) -> str:
    """The Markdown report of :func:`seed_ibov_study` (``docs/seed-ibov-study.md``)."""
    d, s = res["data"], res["split"]
    lines = [
        "# Seed study: IBOVESPA next-day direction",
        "",
        "Generated by `python -m dashboard study seed-ibov --markdown docs/seed-ibov-study.md`"
        " (see `core/ml/study.py`). Every number is out of sample.",
        "",
        f"Data: `{d['file']}`, {d['sessions']} sessions {d['first']}..{d['last']}; "
        f"{d['rows']} rows after the feature warm-up; {d['n_inputs']} inputs "
        f"(20 features × {d['lookback']} sessions).",
        "",
        f"Split: train {s['train']} ({s['train_dates'][0]}..{s['train_dates'][1]}), "
        f"validation/holdout {s['validation']} ({s['validation_dates'][0]}..{s['validation_dates'][1]}), "
        f"test {s['test']} ({s['test_dates'][0]}..{s['test_dates'][1]}); 3-fold expanding "
        "walk-forward over train+validation.",
        "",
        "## Seed vs ours",
        "",
        "| model | seed holdout acc. | ours holdout acc. [95% CI] | seed F1 | ours F1 [95% CI] "
        "| best baseline (holdout) | p-value | seed WF | ours WF (mean ± std) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in res["models"].items():
        sd = res["seed"][name]
        h = m["holdout"]
        wf = m["walk_forward"]
        seed_wf = "—" if sd["wf_mean"] is None else f"{_pct(sd['wf_mean'])} ± {_pct(sd['wf_std'])}"
        lines.append(
            f"| {name} | {_pct(sd['holdout_accuracy'])} | {_pct(h['accuracy']['value'])} "
            f"[{_pct(h['accuracy']['lo'])}–{_pct(h['accuracy']['hi'])}], n={h['n']} "
            f"| {_pct(sd['holdout_f1'])} | {_pct(h['f1']['value'])} "
            f"[{_pct(h['f1']['lo'])}–{_pct(h['f1']['hi'])}] "
            f"| {_pct(h['baselines'][h['best_baseline']])} ({h['best_baseline']}) "
            f"| {h['p_value']:.3f} | {seed_wf} | {_pct(wf['mean'])} ± {_pct(wf['std'])} |"
        )
    fair = res.get("seed_fair_test") or {}
    if fair:
        lines += [
            "",
            "## The seed's own figures, tested fairly",
            "",
            "| model | seed hits / n | majority baseline (same rows) | p-value | "
            "accuracy detectable (80 % power) | power at 55 % |",
            "|---|---|---|---|---|---|",
        ]
        for name, f in fair.items():
            lines.append(
                f"| {name} | {f['hits']}/{f['n']} ({_pct(f['seed_accuracy'])}) "
                f"| {_pct(f['majority'])} | {f['p_value']:.3f} | {_pct(f['mde_accuracy'])} "
                f"| {f['power_55']:.0%} |"
            )
    lines += [
        "",
        "## 30-session test",
        "",
        "| model | accuracy [95% CI] | n | best baseline | p-value |",
        "|---|---|---|---|---|",
    ]
    for name, m in res["models"].items():
        t = m["test30"]
        lines.append(
            f"| {name} | {_pct(t['accuracy']['value'])} [{_pct(t['accuracy']['lo'])}–"
            f"{_pct(t['accuracy']['hi'])}] | {t['n']} | {_pct(t['baselines'][t['best_baseline']])} "
            f"({t['best_baseline']}) | {t['p_value']:.3f} |"
        )
    lines += [
        "",
        "## Walk-forward folds",
        "",
        "| model | fold | test dates | n | accuracy | best baseline | p-value |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in res["models"].items():
        for f in m["walk_forward"]["folds"]:
            lines.append(
                f"| {name} | {f['fold']} | {f['start']}..{f['end']} | {f['n']} "
                f"| {_pct(f['accuracy'])} | {_pct(f['best_baseline'])} | {f['p_value']:.3f} |"
            )
    lines += ["", "## What holds", ""] + [f"- {v}" for v in res["verdict"]]
    lines += [
        "",
        "## Notes",
        "",
        "- The seed does not publish its 20 features; ours are in `core/ml/features.py` "
        "(`SEED_FEATURES`). The seed does not say on which rows its 'holdout' was measured; "
        "we read it as the 20 % validation block (a 30-row test cannot give 53.75 %).",
        "- CIs: percentile bootstrap (300 resamples) of the test rows. p-value: one-sided exact "
        "binomial test of the model's hits against the best baseline's accuracy on the same rows.",
        "- LightGBM: as in the seed, `subsample=0.8` without `subsample_freq` (so no bagging).",
        f"- Run time: {res['seconds']:.1f} s.",
        "",
    ]
    return "\n".join(lines)
