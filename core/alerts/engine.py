"""Evaluate alert rules on bars and account events; store each firing once; dispatch it.

Entry points
------------
:func:`evaluate_bar` ``(store, event)``
    A :class:`core.trading.runner.StrategyRunner` ``on_bar`` hook: evaluates the bar rules
    (``expr``, ``strategy``, ``model``, ``anomaly``) that watch ``event.ticker`` on that new
    bar, then the paper-account rules (:func:`evaluate_account_events`).
:func:`evaluate_range` ``(store, start, end)``
    Every firing of the bar rules over the stored bars of a date range (``alerts run``).
:func:`evaluate_latest` ``(store)``
    After the scheduled data update: the bar rules on the newest stored bars.
:func:`evaluate_account_events` ``(store)``
    Paper-account events (:func:`core.trading.events.list_events`) and drawdown thresholds.
:func:`run_daily_summary` ``(store)``
    The 17:30 summary of each paper account, once per B3 session.
:func:`check_data_health` ``(store, failed=...)``
    A failed update, or data behind the B3 calendar.

Rules of evaluation
-------------------
* A bar rule is evaluated on the **close** of a bar with the bars up to that bar only (no
  lookahead): the expression on as-traded bars with the history before a split put on the
  bar's share basis (a split never fakes a crossing; values are the prices traded that day), the strategy through
  :func:`core.backtest.runner.compute_signals` on dividend-adjusted bars (as a backtest),
  the model and the anomaly forest on the history up to the bar.
* At most one firing per (rule, ticker, bar): the ``alert_firings`` unique key enforces it
  in the database, so a second process, a restart or a re-run stores and dispatches
  nothing new (the existing firing is returned with ``new=False``).
* Cooldown (``rule.cooldown`` bars): a bar ``i`` does not fire when the same rule fired for
  the same ticker on one of the ``cooldown`` bars before it (stored firings count).
* Each **new** firing is stored, then handed to :func:`core.alerts.dispatch.dispatch`
  (errors there are logged, never raised into the evaluation).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, insert, select
from sqlalchemy.exc import IntegrityError

from core import textfmt
from core.alerts.models import AlertFiring
from core.alerts.rules import BAR_KINDS, Rule, list_rules, save_progress
from core.data.store import Store
from core.errors import InputError, PregaoError, UnknownTickerError

__all__ = [
    "Firing",
    "evaluate_bar",
    "evaluate_range",
    "evaluate_latest",
    "evaluate_account_events",
    "run_daily_summary",
    "session_summary_hook",
    "check_data_health",
    "list_firings",
    "SUMMARY_TIME",
]

log = logging.getLogger(__name__)
_F = AlertFiring.__table__
#: Local time (America/Sao_Paulo) of the daily summary (seed 002: "Resumo diário (17:30 BRT)").
SUMMARY_TIME = "17:30"
_TZ = "America/Sao_Paulo"
#: Sessions of history the anomaly forest is fitted on for each bar (≈ 3 years).
ANOMALY_WINDOW = 750
_SEV_RANK = {"baixa": 0, "média": 1, "alta": 2}
_SIGNAL_LABEL = {
    "entry_long": "compra (entrada comprada)",
    "exit_long": "venda (saída da compra)",
    "entry_short": "venda a descoberto (entrada vendida)",
    "exit_short": "recompra (saída da venda)",
}
_EVENT_LABEL = {
    "fill": "Execução",
    "stop": "Stop executado",
    "target": "Alvo atingido",
    "rejected": "Ordem rejeitada",
    "daily_loss_limit": "Limite de perda diária",
    "drawdown": "Drawdown máximo",
    "kill_switch": "Kill switch",
    "red_flag": "Red flag",
}
_EVENT_SEVERITY = {
    "fill": "info",
    "stop": "warning",
    "target": "info",
    "rejected": "warning",
    "daily_loss_limit": "critical",
    "drawdown": "critical",
    "kill_switch": "critical",
    "red_flag": "critical",
}


@dataclass
class Firing:
    """One firing of a rule (stored in ``alert_firings``).

    Attributes
    ----------
    id : int or None
        Row id (None for a dry run).
    rule_id : int or None
    rule_name : str
    kind : str
        The rule's kind.
    ticker : str
        ``""`` when the rule has no ticker (account, summary, data health).
    bar_time : pandas.Timestamp
        Naive America/Sao_Paulo time of the bar (session date for daily bars), the account
        event or the session summarised.
    fired_at : datetime
        When it was stored (UTC, naive).
    values : dict
        Numbers behind the firing (operand values, probabilities, R$ amounts, fractions).
    message : str
        pt-BR text for the channels.
    channels : list of str
    severity : {"info", "warning", "critical"}
    owner : str or None
        The rule's owner.
    event_key : str
        ``""`` for bar firings, ``"event:<id>"`` for account events, etc.
    new : bool
        False when this firing was already stored before (nothing was dispatched).
    """

    id: int | None
    rule_id: int | None
    rule_name: str
    kind: str
    ticker: str
    bar_time: pd.Timestamp
    fired_at: dt.datetime
    values: dict
    message: str
    channels: list[str]
    severity: str
    owner: str | None = None
    event_key: str = ""
    new: bool = True

    def to_dict(self) -> dict:
        """JSON-ready dict (``alerts run --json``)."""
        bt = pd.Timestamp(self.bar_time)
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "rule": self.rule_name,
            "kind": self.kind,
            "ticker": self.ticker,
            "bar_time": bt.strftime("%Y-%m-%d") if bt == bt.normalize() else bt.isoformat(),
            "fired_at": self.fired_at.isoformat() if self.fired_at else None,
            "values": self.values,
            "message": self.message,
            "channels": list(self.channels),
            "severity": self.severity,
            "owner": self.owner,
            "new": self.new,
        }


@dataclass
class _Cand:
    """A candidate firing before cooldown and storage."""

    ticker: str
    bar_time: pd.Timestamp
    values: dict
    message: str
    event_key: str = ""
    severity: str | None = None


# --------------------------------------------------------------------------- helpers
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _local_now() -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(_TZ)).replace(tzinfo=None)


def _clean(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if not np.isfinite(f) else f
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def _when(t: pd.Timestamp) -> str:
    t = pd.Timestamp(t)
    return textfmt.date(t) if t == t.normalize() else textfmt.datetime(t)


_PRICE_FUNCS = ("sma(", "ema(", "bollinger(", "highest(", "lowest(", "prev(", "atr(")


def _fmt_value(name: str, v: float | None) -> str:
    """``close R$ 39,59``, ``volume 12.345.600``, ``rsi(14) 28,41`` (pt-BR)."""
    if v is None or not np.isfinite(v):
        return f"{name} {textfmt.MISSING}"
    if "volume" in name or name.startswith("obv"):
        return f"{name} {textfmt.integer(v)}"
    if name in ("open", "high", "low", "close") or name.startswith(_PRICE_FUNCS):
        return f"{name} {textfmt.brl(v)}"
    return f"{name} {textfmt.num(v, 2)}"


def _load_bars(
    store: Store, ticker: str, end=None, interval: str = "1d", start=None
) -> pd.DataFrame:
    try:
        return store.bars(ticker, start, end, interval)
    except UnknownTickerError:
        return pd.DataFrame(columns=["open", "high", "low", "close", "adj_close", "volume"])


def _interval(event) -> str:
    iv = getattr(event, "interval", None)
    if iv:
        return str(iv)
    t = pd.Timestamp(event.time)
    return "1d" if t == t.normalize() else "5m"


# --------------------------------------------------------------------------- candidates
def _share_actions(store: Store, ticker: str) -> pd.DataFrame:
    """The ticker's share-changing actions (splits, reverse splits, bonus, price factors)."""
    from core.data.actions import PRICE_FACTOR, SPLIT_KINDS, load_actions

    try:
        acts = load_actions(store, [ticker], include_price_factors=True)
    except Exception:  # noqa: BLE001 - a store without the actions table: no actions
        return pd.DataFrame(columns=["date", "kind", "value"])
    if len(acts) == 0:
        return acts
    acts = acts[acts["kind"].isin((*SPLIT_KINDS, PRICE_FACTOR))]
    return acts.assign(date=pd.to_datetime(acts["date"])).sort_values("date")


def _expr_evaluations(ctx: _Ctx, expr, ticker: str, bars: pd.DataFrame, mask: np.ndarray):
    """(positions, condition, values) per share basis: the bars of each stretch between two
    splits are evaluated on the history put on that stretch's share basis
    (:func:`core.data.actions.split_adjusted` with the actions up to the stretch), so a split
    never makes a false crossing and every value is the price traded on its bar."""
    from core.data.actions import split_adjusted

    acts = ctx.actions(ticker)
    idx = bars.index
    cuts = (
        sorted({int(idx.searchsorted(d)) for d in acts["date"]} - {0, len(idx)})
        if len(acts)
        else []
    )
    bounds = [0, *cuts, len(idx)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if hi <= lo or not mask[lo:hi].any():
            continue
        sub = bars.iloc[:hi]
        basis = split_adjusted(sub, acts[acts["date"] <= idx[hi - 1]]) if len(acts) else sub
        cond, vals = expr.evaluate_with_values(basis)
        yield lo, hi, cond.to_numpy(), vals


def _expr_candidates(
    ctx: _Ctx, rule: Rule, ticker: str, bars: pd.DataFrame, mask: np.ndarray
) -> list[_Cand]:
    from core.alerts.expr import parse

    expr = parse(rule.condition)
    hits: list[tuple[int, pd.DataFrame]] = []
    for lo, hi, cond, vals in _expr_evaluations(ctx, expr, ticker, bars, mask):
        for i in np.flatnonzero(cond[lo:hi] & mask[lo:hi]) + lo:
            hits.append((int(i), vals))
    out = []
    for i, vals in hits:
        t = bars.index[i]
        values = {c: _clean(vals[c].iat[i]) for c in vals.columns}
        shown = "; ".join(_fmt_value(k, v) for k, v in values.items())
        msg = f"{ticker}: {rule.name} — {rule.condition} no fechamento de {_when(t)}"
        out.append(_Cand(ticker, t, values, f"{msg} ({shown})." if shown else msg + "."))
    return out


def _strategy_candidates(
    store: Store, rule: Rule, ticker: str, bars: pd.DataFrame, mask: np.ndarray
) -> list[_Cand]:
    from core.backtest.runner import adjust_bars, compute_signals
    from core.strategies import get_strategy

    p = rule.params
    strat = get_strategy(p["strategy"], **(p.get("strategy_params") or {}))
    strat.prepare(store)
    sig = compute_signals(strat, {ticker: adjust_bars(bars)}, {ticker: bars})[ticker]
    wanted = [s for s in p.get("signals") or [] if s in sig.columns]
    if not wanted:
        return []
    flags = np.zeros(len(bars), dtype=bool)
    for s in wanted:
        flags |= sig[s].to_numpy(dtype=bool)
    out = []
    for i in np.flatnonzero(flags & mask):
        t = bars.index[i]
        which = [s for s in wanted if bool(sig[s].iat[i])]
        close = float(bars["close"].iat[i])
        values: dict[str, Any] = {"signals": which, "close": _clean(close)}
        for lvl in ("stop", "target", "entry_level"):
            if lvl in sig.columns and np.isfinite(sig[lvl].iat[i]):
                values[lvl] = _clean(sig[lvl].iat[i])
        label = " e ".join(_SIGNAL_LABEL[s] for s in which)
        msg = (
            f"{ticker}: sinal de {label} da estratégia {strat.label or strat.name} no fechamento "
            f"de {_when(t)} (fechamento {textfmt.brl(close)}"
        )
        if "stop" in values:
            msg += f"; stop {textfmt.brl(values['stop'])}"
        if "target" in values:
            msg += f"; alvo {textfmt.brl(values['target'])}"
        out.append(_Cand(ticker, t, values, msg + ")."))
    return out


def _model_candidates(
    store: Store, rule: Rule, ticker: str, bars: pd.DataFrame, mask: np.ndarray, champion
) -> list[_Cand]:
    from core.data.calendar import next_session
    from core.ml.predictions import in_proven_bin

    if champion is None or len(bars) < 60:
        return []
    tu = pd.Timestamp(champion.trained_until)
    mask = mask & (bars.index > tu)  # never a session the model was trained on
    if not mask.any():
        return []
    p = champion.predict_proba_up(bars).to_numpy(dtype="float64")
    want = rule.params.get("direction", "both")
    out = []
    for i in np.flatnonzero(mask):
        pv = p[i]
        if not np.isfinite(pv) or not in_proven_bin(champion.metrics, pv):
            continue
        up = pv >= 0.5
        if (want == "up" and not up) or (want == "down" and up):
            continue
        t = bars.index[i]
        target = next_session(t) if t == t.normalize() else None
        values = {
            "p_up": _clean(pv),
            "direction": "Alta" if up else "Queda",
            "confidence": _clean(abs(2 * pv - 1)),
            "model_id": champion.model_id,
            "target_date": _clean(target) if target is not None else None,
        }
        when = f" ({textfmt.date(target)})" if target is not None else ""
        msg = (
            f"{ticker}: o modelo campeão #{champion.model_id} prevê "
            f"{'ALTA' if up else 'QUEDA'} no próximo pregão{when}: P(alta) = "
            f"{textfmt.pct(pv, 1)}, numa faixa calibrada com acerto comprovado fora da amostra "
            f"(dados até {_when(t)})."
        )
        out.append(_Cand(ticker, t, values, msg))
    return out


def _anomaly_candidates(
    rule: Rule, ticker: str, bars: pd.DataFrame, mask: np.ndarray
) -> list[_Cand]:
    from core.ml.anomalies import detect_anomalies

    c = float(rule.params.get("contamination", 0.02))
    min_rank = _SEV_RANK.get(rule.params.get("min_severity", "baixa"), 0)
    out = []
    for i in np.flatnonzero(mask):
        sub = bars.iloc[max(0, i + 1 - ANOMALY_WINDOW) : i + 1]
        flagged = detect_anomalies(sub, contamination=c)
        t = bars.index[i]
        if t not in flagged.index:
            continue
        row = flagged.loc[t]
        if _SEV_RANK.get(str(row["severity"]), 0) < min_rank:
            continue
        values = {
            "score": _clean(row["score"]),
            "severity": str(row["severity"]),
            "ret_1": _clean(row["ret_1"]),
            "close": _clean(bars["close"].iat[i]),
            "volume": _clean(bars["volume"].iat[i]),
        }
        msg = (
            f"{ticker}: anomalia de severidade {row['severity']} em {_when(t)} "
            f"(IsolationForest, pontuação {textfmt.num(row['score'], 3)}; retorno do dia "
            f"{textfmt.pct(np.expm1(float(row['ret_1'])), 2, sign=True)}; volume "
            f"{textfmt.integer(bars['volume'].iat[i])})."
        )
        out.append(_Cand(ticker, t, values, msg))
    return out


class _Ctx:
    """Per-call caches: bars per ticker, the champion model."""

    def __init__(self, store: Store, interval: str = "1d") -> None:
        self.store = store
        self.interval = interval
        self.bars: dict[tuple[str, Any, Any], pd.DataFrame] = {}
        self._actions: dict[str, pd.DataFrame] = {}
        self._champion: Any = False

    def actions(self, ticker: str) -> pd.DataFrame:
        """The ticker's share-changing actions (cached for the call)."""
        if ticker not in self._actions:
            self._actions[ticker] = _share_actions(self.store, ticker)
        return self._actions[ticker]

    def champion(self):
        if self._champion is False:
            try:
                from core.ml.registry import load_champion

                self._champion = load_champion(self.store)
            except (PregaoError, OSError, ImportError) as exc:
                log.warning("alerts: champion model unavailable: %s", exc)
                self._champion = None
        return self._champion

    def load(self, ticker: str, end=None, start=None) -> pd.DataFrame:
        key = (ticker, None if end is None else pd.Timestamp(end), start)
        if key not in self.bars:
            self.bars[key] = _load_bars(self.store, ticker, end, self.interval, start)
        return self.bars[key]


def _history_days(rule: Rule) -> int:
    """Calendar days of daily history a bar rule needs on each new bar (evaluate_bar).

    Ten times the indicators' warm-up and at least 500 sessions, so that recursive
    smoothings (EMA, Wilder) started there equal the full-history values to ~1e-10: the
    hook fires on the same bars as :func:`evaluate_range` over the whole history.
    """
    if rule.kind == "model":
        from core.ml.predictions import HISTORY_DAYS

        return HISTORY_DAYS
    if rule.kind == "anomaly":
        return int(ANOMALY_WINDOW * 1.5) + 30
    bars = 0
    try:
        if rule.kind == "expr":
            from core.alerts.expr import parse

            bars = parse(rule.condition).warmup()
        elif rule.kind == "strategy":
            from core.strategies import get_strategy

            p = rule.params
            bars = get_strategy(p["strategy"], **(p.get("strategy_params") or {})).warmup()
    except PregaoError:
        bars = 0
    return int(max(10 * bars, 500) * 1.5) + 30


def _rule_tickers(rule: Rule, ctx: _Ctx) -> list[str]:
    if rule.tickers:
        return list(rule.tickers)
    if rule.kind == "model":
        ch = ctx.champion()
        return list(ch.tickers or []) if ch is not None else []
    return []


def _candidates(ctx: _Ctx, rule: Rule, ticker: str, bars: pd.DataFrame, mask: np.ndarray):
    if len(bars) == 0 or not mask.any():
        return []
    if rule.kind == "expr":
        return _expr_candidates(ctx, rule, ticker, bars, mask)
    if rule.kind == "strategy":
        return _strategy_candidates(ctx.store, rule, ticker, bars, mask)
    if rule.kind == "model":
        return _model_candidates(ctx.store, rule, ticker, bars, mask, ctx.champion())
    if rule.kind == "anomaly":
        return _anomaly_candidates(rule, ticker, bars, mask)
    return []


# --------------------------------------------------------------------------- storage
def _stored_times(store: Store, rule_id: int, ticker: str) -> list[pd.Timestamp]:
    q = select(_F.c.bar_time).where(
        _F.c.rule_id == rule_id, _F.c.ticker == ticker, _F.c.event_key == ""
    )
    with store.engine.connect() as conn:
        return sorted(pd.Timestamp(r[0]) for r in conn.execute(q).all())


def _apply_cooldown(
    rule: Rule, cands: list[_Cand], index: pd.DatetimeIndex, prior: Iterable[pd.Timestamp]
) -> list[_Cand]:
    """Drop candidates within ``rule.cooldown`` bars after an earlier firing."""
    if rule.cooldown <= 0 or not cands:
        return cands
    import bisect

    prior_pos = sorted(int(p) for p in index.get_indexer(pd.DatetimeIndex(list(prior))) if p >= 0)
    kept = []
    for c in sorted(cands, key=lambda c: c.bar_time):
        pos = int(index.get_loc(c.bar_time))
        k = bisect.bisect_left(prior_pos, pos)  # firings strictly before this bar
        if k and pos - prior_pos[k - 1] <= rule.cooldown:
            continue
        kept.append(c)
        bisect.insort(prior_pos, pos)
    return kept


def _from_mapping(r, new: bool = False) -> Firing:
    return Firing(
        id=r["id"],
        rule_id=r["rule_id"],
        rule_name=r["rule_name"],
        kind=r["kind"],
        ticker=r["ticker"],
        bar_time=pd.Timestamp(r["bar_time"]),
        fired_at=r["fired_at"],
        values=dict(r["values"] or {}),
        message=r["message"],
        channels=list(r["channels"] or []),
        severity=r["severity"],
        owner=r["owner"],
        event_key=r["event_key"],
        new=new,
    )


def _existing(store: Store, rule_id: int, ticker: str, bar_time, event_key: str) -> Firing | None:
    q = select(_F).where(
        and_(
            _F.c.rule_id == rule_id,
            _F.c.ticker == ticker,
            _F.c.bar_time == pd.Timestamp(bar_time).to_pydatetime(),
            _F.c.event_key == event_key,
        )
    )
    with store.engine.connect() as conn:
        r = conn.execute(q).mappings().first()
    return None if r is None else _from_mapping(r)


def _dispatch(store: Store, firing: Firing) -> None:
    from core.alerts.dispatch import dispatch

    try:
        dispatch(store, firing)
    except Exception:  # noqa: BLE001 - a channel never breaks the evaluation
        log.exception("alerts: dispatch of firing %s failed", firing.id)


def _record(
    store: Store, rule: Rule, cands: list[_Cand], *, persist: bool = True, send: bool = True
) -> list[Firing]:
    """Store each candidate once (unique key), dispatch the new ones."""
    out = []
    for c in cands:
        firing = Firing(
            id=None,
            rule_id=rule.id,
            rule_name=rule.name,
            kind=rule.kind,
            ticker=c.ticker or "",
            bar_time=pd.Timestamp(c.bar_time),
            fired_at=_now(),
            values=_clean(c.values),
            message=c.message,
            channels=list(rule.channels),
            severity=c.severity or rule.severity,
            owner=rule.owner,
            event_key=c.event_key,
        )
        if not persist or rule.id is None:
            out.append(firing)
            continue
        old = _existing(store, rule.id, firing.ticker, firing.bar_time, firing.event_key)
        if old is not None:
            out.append(old)
            continue
        try:
            with store.transaction() as conn:
                res = conn.execute(
                    insert(_F).values(
                        rule_id=rule.id,
                        rule_name=rule.name,
                        owner=rule.owner,
                        kind=rule.kind,
                        ticker=firing.ticker,
                        bar_time=firing.bar_time.to_pydatetime(),
                        event_key=firing.event_key,
                        fired_at=firing.fired_at,
                        values=firing.values,
                        message=firing.message,
                        channels=firing.channels,
                        severity=firing.severity,
                    )
                )
                firing.id = int(res.inserted_primary_key[0])
        except IntegrityError:
            # another process stored it between our check and our insert
            old = _existing(store, rule.id, firing.ticker, firing.bar_time, firing.event_key)
            if old is not None:
                out.append(old)
            continue
        out.append(firing)
        if send:
            _dispatch(store, firing)
    return out


def _fire_bars(
    ctx: _Ctx,
    rule: Rule,
    ticker: str,
    bars: pd.DataFrame,
    mask: np.ndarray,
    *,
    persist: bool,
    send: bool,
) -> list[Firing]:
    try:
        cands = _candidates(ctx, rule, ticker, bars, mask)
    except PregaoError as exc:
        log.warning("alerts: rule %r on %s skipped: %s", rule.name, ticker, exc)
        return []
    if not cands:
        return []
    prior = _stored_times(ctx.store, rule.id, ticker) if rule.id is not None else []
    cands = _apply_cooldown(rule, cands, pd.DatetimeIndex(bars.index), prior)
    return _record(ctx.store, rule, cands, persist=persist and rule.id is not None, send=send)


# --------------------------------------------------------------------------- entry points
def evaluate_bar(store: Store, event, *, send: bool = True) -> list[Firing]:
    """Evaluate the rules watching ``event.ticker`` on that new bar (a runner ``on_bar`` hook).

    Parameters
    ----------
    store : Store
    event : BarEvent
        ``ticker, time, open, high, low, close, volume`` (:mod:`core.trading.feeds`),
        as-traded; ``time`` naive America/Sao_Paulo (session date for daily bars). When
        the store has no bar at ``time`` (a live feed), the event's OHLCV is appended to the
        stored history for the evaluation.
    send : bool
        Dispatch new firings (default True).

    Returns
    -------
    list of Firing
        Firings of this bar (new ones first stored and dispatched; already stored ones
        with ``new=False``), then those of the paper-account rules.
    """
    ticker = str(event.ticker).upper()
    t = pd.Timestamp(event.time)
    ctx = _Ctx(store, _interval(event))
    enabled = list_rules(store, kind=(*BAR_KINDS, "account"), enabled=True)
    rules = [r for r in enabled if r.kind in BAR_KINDS and ticker in _rule_tickers(r, ctx)]
    out: list[Firing] = []
    if rules:
        start = None
        if ctx.interval == "1d":
            start = t.normalize() - pd.Timedelta(days=max(_history_days(r) for r in rules))
        bars = ctx.load(ticker, t, start)
        bars = bars[bars.index <= t]
        if len(bars) == 0 or bars.index[-1] != t:
            row = {
                c: float(getattr(event, c, np.nan))
                for c in ("open", "high", "low", "close", "volume")
            }
            row["adj_close"] = row["close"]
            extra = pd.DataFrame([row], index=pd.DatetimeIndex([t], name="date"))
            bars = pd.concat([bars, extra[bars.columns if len(bars.columns) else extra.columns]])
        mask = np.zeros(len(bars), dtype=bool)
        mask[-1] = True
        for r in rules:
            out += _fire_bars(ctx, r, ticker, bars, mask, persist=True, send=send)
    account_rules = [r for r in enabled if r.kind == "account"]
    if account_rules:
        out += evaluate_account_events(store, at=t, send=send, rules=account_rules)
    return out


def evaluate_range(
    store: Store,
    start=None,
    end=None,
    *,
    rules: list[Rule] | None = None,
    owner: str | None = None,
    tickers: list[str] | None = None,
    persist: bool = True,
    send: bool = False,
    interval: str = "1d",
    progress: Callable[[float, str], None] | None = None,
) -> list[Firing]:
    """Every firing of the bar rules over the stored bars dated ``start``…``end``.

    Parameters
    ----------
    store : Store
    start, end : date-like, optional
        Inclusive bounds on the bar date (default: all stored bars).
    rules : list of Rule, optional
        Default: the enabled bar rules of ``owner``.
    owner : str, optional
        None = every owner's rules.
    tickers : list of str, optional
        Only these tickers of each rule.
    persist : bool
        Store the firings (each once: already stored ones come back with ``new=False``).
        False = dry run.
    send : bool
        Dispatch the new firings (default False: a historical run fills the history
        without flooding the channels).
    interval : str
        Bar interval (``"1d"``).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    list of Firing
        Sorted by bar time, then rule and ticker.

    Raises
    ------
    InputError
        Inverted dates.
    """
    s = pd.Timestamp(start) if start not in (None, "") else None
    e = pd.Timestamp(end) if end not in (None, "") else None
    if s is not None and e is not None and s > e:
        raise InputError(f"Início {textfmt.date(s)} depois do fim {textfmt.date(e)}.")
    ctx = _Ctx(store, interval)
    if rules is None:
        rules = list_rules(store, owner, kind=BAR_KINDS, enabled=True)
    rules = [r for r in rules if r.kind in BAR_KINDS]
    only = {t.upper() for t in tickers} if tickers else None
    jobs = [(r, t) for r in rules for t in _rule_tickers(r, ctx) if only is None or t in only]
    out: list[Firing] = []
    for k, (rule, ticker) in enumerate(jobs):
        if progress:
            progress(k / max(len(jobs), 1), f"{rule.name} · {ticker}")
        bars = ctx.load(ticker, e)
        if len(bars) == 0:
            continue
        idx = bars.index
        mask = np.ones(len(bars), dtype=bool)
        if s is not None:
            mask &= idx >= s
        if e is not None:
            e_end = e + pd.Timedelta(days=1) if e == e.normalize() else e
            mask &= idx < e_end if e == e.normalize() else idx <= e
        out += _fire_bars(ctx, rule, ticker, bars, mask, persist=persist, send=send)
    if progress:
        progress(1.0, "ok")
    return sorted(out, key=lambda f: (f.bar_time, f.rule_name, f.ticker))


def evaluate_latest(store: Store, *, lookback: int = 5, send: bool = True) -> list[Firing]:
    """The bar rules on the newest stored bars (after the scheduled data update).

    Each rule is evaluated on the last ``lookback`` bars of each of its tickers (the bars an
    update may have brought in at once), but never on a session before the rule was created
    (its São Paulo date); already stored firings are not repeated.
    """
    from zoneinfo import ZoneInfo

    ctx = _Ctx(store)
    out: list[Firing] = []
    for rule in list_rules(store, kind=BAR_KINDS, enabled=True):
        created = rule.created_at
        since = None
        if created is not None:
            since = pd.Timestamp(created.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(_TZ)).date())
        for ticker in _rule_tickers(rule, ctx):
            bars = ctx.load(ticker)
            if len(bars) == 0:
                continue
            mask = np.zeros(len(bars), dtype=bool)
            mask[-max(1, int(lookback)) :] = True
            if since is not None:
                mask &= bars.index >= since
            out += _fire_bars(ctx, rule, ticker, bars, mask, persist=True, send=send)
    return out


# --------------------------------------------------------------------------- accounts
def _account_snapshot(store: Store, account: str):
    """The paper account's snapshot (None when the trading module or account is missing)."""
    try:
        from core.trading.broker import PaperBroker
    except ImportError:
        return None
    try:
        return PaperBroker(store, account).account()
    except PregaoError:
        return None


def _account_names(store: Store, only: str | None, owner: str | None = None) -> list[str]:
    """Paper accounts a rule watches: ``only``, else every account of ``owner`` (None: all)."""
    if only:
        return [only]
    try:
        from core.trading.accounts import list_accounts
    except ImportError:
        return []
    try:
        return [a.name for a in list_accounts(store, owner)]
    except Exception:  # noqa: BLE001 - no trading tables: no accounts
        return []


def evaluate_account_events(
    store: Store,
    *,
    at=None,
    owner: str | None = None,
    send: bool = True,
    rules: list[Rule] | None = None,
) -> list[Firing]:
    """Fire the ``account`` rules on new paper-account events and drawdown thresholds.

    Each rule reads the events after its cursor (``last_event_id``, set to the newest event
    when the rule was created) of its account (or every account), fires once per event of
    a kind it watches (unique key ``event:<id>``), then advances the cursor. With
    ``drawdown_pct`` set, it also fires when an account's drawdown (``AccountSnapshot.
    drawdown_pct``) rises to the threshold or above — once per rise, re-armed when it falls
    back below.

    Parameters
    ----------
    at : date-like, optional
        The market time of the check (the bar being processed in a replay); default: the
        newest event's time, else now (São Paulo).
    owner : str, optional
        Only this owner's rules (None = all).
    rules : list of Rule, optional
        The enabled account rules, when the caller has them already.

    Returns
    -------
    list of Firing
    """
    if rules is None:
        rules = list_rules(store, owner, kind="account", enabled=True)
    if not rules:
        return []
    try:
        from core.trading.events import list_events
    except ImportError:
        return []
    out: list[Firing] = []
    for rule in rules:
        acc = rule.params.get("account")
        try:
            events = list_events(store, account=acc, since_id=rule.last_event_id)
        except Exception as exc:  # noqa: BLE001 - no events table yet
            log.debug("alerts: no paper events: %s", exc)
            events = []
        kinds = set(rule.params.get("events") or [])
        mine = None if acc or rule.owner is None else set(_account_names(store, None, rule.owner))
        cands = []
        for ev in events:
            if ev.kind not in kinds or (mine is not None and ev.account not in mine):
                continue
            label = _EVENT_LABEL.get(ev.kind, ev.kind)
            who = f" ({ev.ticker})" if ev.ticker else ""
            msg = f"[{ev.account}] {label}{who} em {_when(ev.time)}: {ev.message}".rstrip(": ")
            cands.append(
                _Cand(
                    ev.ticker or "",
                    pd.Timestamp(ev.time),
                    {
                        "account": ev.account,
                        "event": ev.kind,
                        "event_id": ev.id,
                        **(ev.values or {}),
                    },
                    msg,
                    event_key=f"event:{ev.id}",
                    severity=_EVENT_SEVERITY.get(ev.kind),
                )
            )
        changed = False
        if events:
            rule.last_event_id = max(int(ev.id) for ev in events)
            changed = True
        threshold = rule.params.get("drawdown_pct")
        if threshold:
            when = pd.Timestamp(at) if at is not None else None
            if when is None:
                when = pd.Timestamp(events[-1].time) if events else pd.Timestamp(_local_now())
            armed = dict(rule.state.get("dd_above") or {})
            for name in _account_names(store, acc, rule.owner):
                snap = _account_snapshot(store, name)
                if snap is None:
                    continue
                dd = float(getattr(snap, "drawdown_pct", 0.0) or 0.0)
                above = dd >= float(threshold)
                clock = getattr(snap, "time", None)
                when_acc = when if at is not None or clock is None else pd.Timestamp(clock)
                if above and not armed.get(name):
                    eq = getattr(snap, "equity", None)
                    peak = getattr(snap, "peak_equity", None)
                    cands.append(
                        _Cand(
                            "",
                            when_acc,
                            {
                                "account": name,
                                "drawdown_pct": dd,
                                "threshold": float(threshold),
                                "equity": eq,
                                "peak_equity": peak,
                            },
                            f"[{name}] Drawdown de {textfmt.pct(dd, 1)} acima do limite de "
                            f"alerta de {textfmt.pct(threshold, 1)} em {_when(when_acc)} "
                            f"(patrimônio {textfmt.brl(eq)}; pico {textfmt.brl(peak)}).",
                            event_key=f"drawdown:{name}",
                            severity="critical",
                        )
                    )
                if above != bool(armed.get(name)):
                    armed[name] = above
                    changed = True
            rule.state = {**rule.state, "dd_above": armed}
        if rule.params.get("win_pct") or rule.params.get("loss_pct"):
            tc, moved = _trade_candidates(store, rule)
            cands += tc
            changed = changed or moved
        out += _record(store, rule, cands, send=send)
        if changed:
            save_progress(store, rule)
    return out


def _trade_candidates(store: Store, rule: Rule) -> tuple[list[_Cand], bool]:
    """Closed trades after the rule's trade cursor with a return beyond its thresholds."""
    try:
        from core.trading.broker import PaperBroker
    except ImportError:
        return [], False
    cursor = int(rule.state.get("last_trade_id") or 0)
    win, loss = rule.params.get("win_pct"), rule.params.get("loss_pct")
    newest = cursor
    cands: list[_Cand] = []
    for name in _account_names(store, rule.params.get("account"), rule.owner):
        try:
            tr = PaperBroker(store, name).trades()
        except PregaoError:
            continue
        if not len(tr):
            continue
        tr = tr[tr["id"] > cursor]
        for r in tr.itertuples(index=False):
            newest = max(newest, int(r.id))
            ret = float(r.return_pct) / 100.0 if np.isfinite(r.return_pct) else float("nan")
            if not np.isfinite(ret):
                continue
            if win and ret >= float(win):
                label, sev = "Trade vencedor", "info"
            elif loss and ret <= -float(loss):
                label, sev = "Trade perdedor", "warning"
            else:
                continue
            cands.append(
                _Cand(
                    str(r.ticker),
                    pd.Timestamp(r.exit_date),
                    {
                        "account": name,
                        "trade_id": int(r.id),
                        "return": ret,
                        "pnl": float(r.pnl),
                        "entry_price": float(r.entry_price),
                        "exit_price": float(r.exit_price),
                        "shares": int(r.shares),
                    },
                    f"[{name}] {label} em {r.ticker} ({_when(r.exit_date)}): "
                    f"{textfmt.pct(ret, 2, sign=True)}, {textfmt.brl(r.pnl)} "
                    f"({textfmt.integer(r.shares)} ações, {textfmt.brl(r.entry_price)} → "
                    f"{textfmt.brl(r.exit_price)}).",
                    event_key=f"trade:{int(r.id)}",
                    severity=sev,
                )
            )
    if newest != cursor:
        rule.state = {**rule.state, "last_trade_id": newest}
        return cands, True
    return cands, False


# --------------------------------------------------------------------------- summary
def _session_activity(store: Store, account: str, session: pd.Timestamp):
    """(fills of the session, P&L of the trades closed in it) of a paper account."""
    try:
        from core.trading.broker import PaperBroker
    except ImportError:
        return [], []
    end = session + pd.Timedelta(days=1)
    try:
        broker = PaperBroker(store, account)
        fills = broker.fills(since=session - pd.Timedelta(microseconds=1))
        trades = broker.trades() if hasattr(broker, "trades") else None
    except PregaoError:
        return [], []
    fills = [f for f in fills if session <= pd.Timestamp(f.time) < end]
    pnls: list[float] = []
    if trades is not None and len(trades):
        ex = pd.to_datetime(trades["exit_date"])
        pnls = [float(x) for x in trades.loc[(ex >= session) & (ex < end), "pnl"]]
    return fills, pnls


def run_daily_summary(
    store: Store, now=None, *, send: bool = True, accounts: Iterable[str] | None = None
) -> list[Firing]:
    """The daily summary of each paper account (17:30 America/Sao_Paulo), once per session.

    For every enabled ``daily_summary`` rule and account: the day's P&L (R$), the day's
    return (day P&L over the equity at the start of the day), the session's fills and the
    win rate of the trades closed in the session (``PaperBroker.trades()``: one row per
    closing fill, a win when its net P&L is positive). Nothing on a day without a B3 session.
    The unique key (rule, account, session) makes a second run the same day a no-op.

    Parameters
    ----------
    now : datetime, optional
        São Paulo wall time (default: now).
    accounts : iterable of str, optional
        Only these accounts (a runner's own account in a replay).

    Returns
    -------
    list of Firing
    """
    from core.data.calendar import b3_sessions

    now = pd.Timestamp(now) if now is not None else pd.Timestamp(_local_now())
    session = now.normalize()
    only = None if accounts is None else set(accounts)
    if len(b3_sessions(session, session)) == 0:
        return []
    out: list[Firing] = []
    for rule in list_rules(store, kind="daily_summary", enabled=True):
        cands = []
        for name in _account_names(store, rule.params.get("account"), rule.owner):
            if only is not None and name not in only:
                continue
            snap = _account_snapshot(store, name)
            if snap is None:
                continue
            fills, pnls = _session_activity(store, name, session)
            wins = sum(1 for x in pnls if x > 0)
            day_pnl = float(getattr(snap, "day_pnl", 0.0) or 0.0)
            equity = float(getattr(snap, "equity", 0.0) or 0.0)
            base = equity - day_pnl
            ret = day_pnl / base if base > 0 else float("nan")
            win_rate = wins / len(pnls) if pnls else float("nan")
            values = {
                "account": name,
                "session": session,
                "day_pnl": day_pnl,
                "day_return": ret,
                "equity": equity,
                "fills": len(fills),
                "closed_trades": len(pnls),
                "wins": wins,
                "win_rate": win_rate,
                "drawdown_pct": getattr(snap, "drawdown_pct", None),
            }
            wr = (
                f"{textfmt.pct(win_rate, 0)} ({wins} de {len(pnls)} operações encerradas)"
                if pnls
                else "sem operações encerradas"
            )
            msg = (
                f"Resumo diário [{name}] {textfmt.date(session)}: resultado "
                f"{textfmt.brl(day_pnl)} ({textfmt.pct(ret, 2, sign=True)}); patrimônio "
                f"{textfmt.brl(equity)}; {len(fills)} execuções; taxa de acerto {wr}."
            )
            cands.append(_Cand("", session, values, msg, event_key=f"summary:{name}"))
        out += _record(store, rule, cands, send=send)
    return out


def session_summary_hook(account: str, tickers: Iterable[str]) -> Callable[[Store, Any], list]:
    """A runner ``on_bar`` hook that sends ``account``'s daily summary in a replay.

    With daily bars, a session is complete once every ticker of the runner has reported its
    bar: the hook then runs :func:`run_daily_summary` for that session at
    :data:`SUMMARY_TIME`, for this account only (its clock is at that session, so the
    summary is the session's). A session some ticker skipped (no bar) is summarised when the
    next session starts. Intraday bars are left to the scheduled 17:30 job. Once per
    session either way (the unique key).

    Parameters
    ----------
    account : str
        The runner's paper account.
    tickers : iterable of str
        The runner's tickers.
    """
    want = {str(t).upper() for t in tickers}
    hh, mm = (int(x) for x in SUMMARY_TIME.split(":"))
    pending: dict[pd.Timestamp, set[str]] = {}

    def hook(store: Store, event) -> list:
        t = pd.Timestamp(event.time)
        if t != t.normalize():
            return []
        out: list[Firing] = []
        for old in sorted(s for s in pending if s < t):
            pending.pop(old)
            out += run_daily_summary(
                store, old + pd.Timedelta(hours=hh, minutes=mm), accounts=[account]
            )
        seen = pending.setdefault(t, set())
        seen.add(str(event.ticker).upper())
        if want <= seen:
            pending.pop(t)
            out += run_daily_summary(
                store, t + pd.Timedelta(hours=hh, minutes=mm), accounts=[account]
            )
        return out

    return hook


# --------------------------------------------------------------------------- data health
def check_data_health(
    store: Store, *, failed: str | None = None, reference=None, send: bool = True
) -> list[Firing]:
    """Fire the ``data_health`` rules: a failed update, or data behind the B3 calendar.

    Parameters
    ----------
    failed : str, optional
        The error of an update that just failed (one firing per rule and session).
    reference : date-like, optional
        The last closed session (default :func:`core.ml.predictions.last_closed_session`).

    Returns
    -------
    list of Firing
        At most two per rule: the failure, and one listing every ticker ``max_behind`` or
        more sessions behind (once per rule and reference session).
    """
    from core.ml.predictions import last_closed_session, sessions_behind

    rules = list_rules(store, kind="data_health", enabled=True)
    if not rules:
        return []
    ref = pd.Timestamp(reference).normalize() if reference is not None else last_closed_session()
    out: list[Firing] = []
    for rule in rules:
        cands = []
        if failed:
            cands.append(
                _Cand(
                    "",
                    ref,
                    {"error": str(failed)[:500]},
                    f"A atualização de cotações falhou ({textfmt.date(ref)}): {failed}",
                    event_key="update_failed",
                    severity="critical",
                )
            )
        tickers = rule.tickers or store.tickers(kind="stock")
        behind: dict[str, int] = {}
        last_dates: dict[str, str] = {}
        for t in tickers:
            try:
                last = store.last_date(t)
            except PregaoError:
                last = None
            if last is None:
                continue
            n = sessions_behind(last, ref)
            if n >= int(rule.params.get("max_behind", 1)):
                behind[t] = n
                last_dates[t] = textfmt.date(last)
        if behind:
            worst = sorted(behind.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{t} ({n} pregões, até {last_dates[t]})" for t, n in worst[:10])
            more = f" e mais {len(worst) - 10}" if len(worst) > 10 else ""
            cands.append(
                _Cand(
                    "",
                    ref,
                    {"reference": ref, "behind": behind},
                    f"Dados atrasados em relação ao calendário da B3 ({textfmt.date(ref)}): "
                    f"{shown}{more}.",
                    event_key="behind",
                )
            )
        out += _record(store, rule, cands, send=send)
    return out


# --------------------------------------------------------------------------- history
def list_firings(
    store: Store,
    owner: str | None = None,
    *,
    rule: str | None = None,
    since=None,
    limit: int | None = 200,
) -> list[Firing]:
    """Stored firings, newest first (``owner=None``: everyone's).

    Parameters
    ----------
    rule : str, optional
        Only the firings of this rule name.
    since : date-like, optional
        Only firings with ``bar_time >= since``.
    limit : int, optional
        At most this many (None = all).
    """
    q = select(_F).order_by(_F.c.bar_time.desc(), _F.c.id.desc())
    if owner is not None:
        q = q.where(_F.c.owner == owner)
    if rule:
        q = q.where(_F.c.rule_name == rule)
    if since is not None:
        q = q.where(_F.c.bar_time >= pd.Timestamp(since).to_pydatetime())
    if limit is not None:
        q = q.limit(int(limit))
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [_from_mapping(r) for r in rows]
