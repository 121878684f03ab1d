"""Alert rules: the :class:`Rule` dataclass, validation per kind and CRUD on ``alert_rules``.

Kinds (:data:`KINDS`) and their ``params``
------------------------------------------
``expr``
    ``condition``: an expression of :mod:`core.alerts.expr` evaluated on the tickers' bars
    (price or indicator crossing a level or an indicator, entering/leaving a channel, any
    indicator condition). Needs ``tickers``.
``strategy``
    ``params = {"strategy": name, "strategy_params": {...}, "signals": [...]}``: a strategy of
    :mod:`core.strategies` at each bar's close, through
    :func:`core.backtest.runner.compute_signals` (the strategy's own code, on dividend-adjusted
    bars as in a backtest). ``signals`` ⊆ ``entry_long, exit_long, entry_short, exit_short``
    (default: all four). Needs ``tickers``.
``model``
    The champion model's next-session signal (:func:`core.ml.registry.load_champion`), only
    when its probability falls in a calibrated bin with proven out-of-sample skill
    (:func:`core.ml.predictions.in_proven_bin`) and only for bars after its training window.
    ``params = {"direction": "up"|"down"|"both"}`` (default both). ``tickers`` empty = the
    champion's instruments.
``anomaly``
    IsolationForest (:func:`core.ml.anomalies.detect_anomalies`) fitted on the history up to
    the bar flags that bar. ``params = {"contamination": 0.02, "min_severity": "baixa"}``.
    Needs ``tickers``.
``account``
    Paper-account events (:func:`core.trading.events.list_events`). ``params = {"account":
    name or None (all), "events": [...] (default: all of :data:`ACCOUNT_EVENTS`; only
    ``drawdown`` when ``drawdown_pct`` is set), "drawdown_pct": 0.05}`` — ``drawdown_pct``
    (a fraction; seed 002: 5 %) also fires when the account's drawdown rises above it (once
    per rise; again only after it fell back); ``win_pct`` / ``loss_pct`` (fractions; seed
    002: "Trade WIN (> +3 %)") fire on each trade closed with a return ≥ ``win_pct`` or
    ≤ −``loss_pct`` (``PaperBroker.trades()``).
``daily_summary``
    At 17:30 America/Sao_Paulo on B3 sessions: P&L, return, trades and win rate of each paper
    account (``params = {"account": name or None}``), once per session.
``data_health``
    An update failed, or the data is ``params["max_behind"]`` (default 1) or more B3
    sessions behind the calendar (``tickers``; empty = every stored stock).

``cooldown`` is in bars of the ticker: after a firing at bar ``i``, bars ``i+1 … i+cooldown``
do not fire again for that rule and ticker (0 = every bar whose close satisfies the rule).
``owner`` is the user name (None = the team / local mode); functions that list or fetch
take ``owner=None`` = no filtering.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from core.alerts.models import AlertRule
from core.data.store import Store
from core.errors import InputError

__all__ = [
    "KINDS",
    "BAR_KINDS",
    "CHANNELS",
    "SEVERITIES",
    "ACCOUNT_EVENTS",
    "STRATEGY_SIGNALS",
    "Rule",
    "validate_rule",
    "add_rule",
    "list_rules",
    "get_rule",
    "remove_rule",
    "update_rule",
    "set_enabled",
    "save_progress",
]

#: Every rule kind (see the module docstring).
KINDS = ("expr", "strategy", "model", "anomaly", "account", "daily_summary", "data_health")
#: Kinds evaluated on each new bar of a ticker.
BAR_KINDS = ("expr", "strategy", "model", "anomaly")
#: Delivery channels a rule may name (delivered by :mod:`core.alerts.dispatch`).
CHANNELS = ("inapp", "telegram", "discord", "email", "webhook")
SEVERITIES = ("info", "warning", "critical")
#: Paper-account event kinds (:mod:`core.trading.events`).
ACCOUNT_EVENTS = (
    "fill",
    "stop",
    "target",
    "rejected",
    "daily_loss_limit",
    "drawdown",
    "kill_switch",
    "red_flag",
)
STRATEGY_SIGNALS = ("entry_long", "exit_long", "entry_short", "exit_short")
_DEFAULT_SEVERITY = {
    "expr": "info",
    "strategy": "info",
    "model": "info",
    "anomaly": "warning",
    "account": "warning",
    "daily_summary": "info",
    "data_health": "warning",
}
_TICKER_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]{0,31}$")
_T = AlertRule.__table__


@dataclass
class Rule:
    """One alert rule (see the module docstring for the kinds and their ``params``).

    Attributes
    ----------
    name : str
        Unique per owner (1-120 characters).
    kind : str
        One of :data:`KINDS`.
    tickers : list of str
        Upper-case tickers (empty for account/daily_summary rules).
    condition : str
        Expression text (``expr`` rules).
    params : dict
        Kind-specific options.
    channels : list of str
        Subset of :data:`CHANNELS` (default ``["inapp"]``).
    cooldown : int
        Bars without a new firing after one (≥ 0).
    severity : {"info", "warning", "critical"}
    enabled : bool
    owner : str or None
    id : int or None
        Set once stored.
    created_at : datetime or None
        UTC, naive.
    last_event_id : int
        Last paper-account event seen (``account`` rules).
    state : dict
        Evaluation state kept between runs (``account`` rules: accounts above the
        drawdown threshold).
    """

    name: str
    kind: str = "expr"
    tickers: list[str] = field(default_factory=list)
    condition: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    channels: list[str] = field(default_factory=lambda: ["inapp"])
    cooldown: int = 0
    severity: str = ""
    enabled: bool = True
    owner: str | None = None
    id: int | None = None
    created_at: dt.datetime | None = None
    last_event_id: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready description (the ``alerts list --json`` row)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "tickers": list(self.tickers),
            "condition": self.condition,
            "params": dict(self.params),
            "channels": list(self.channels),
            "cooldown": self.cooldown,
            "severity": self.severity,
            "enabled": self.enabled,
            "owner": self.owner,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }

    def describe(self) -> str:
        """One pt-BR line saying what the rule watches."""
        if self.kind == "expr":
            return self.condition
        if self.kind == "strategy":
            return f"sinais da estratégia {self.params.get('strategy')}"
        if self.kind == "model":
            return f"sinal do modelo campeão ({self.params.get('direction', 'both')})"
        if self.kind == "anomaly":
            return "anomalia (IsolationForest)"
        if self.kind == "account":
            acc = self.params.get("account") or "todas as contas"
            return f"eventos da conta {acc}"
        if self.kind == "daily_summary":
            return "resumo diário às 17:30"
        return f"saúde dos dados (≥ {self.params.get('max_behind', 1)} pregões de atraso)"


def _pct(v: Any, name: str) -> float:
    try:
        f = float(str(v).replace("%", "").replace(",", "."))
    except (TypeError, ValueError):
        raise InputError(f"{name} inválido: {v!r} (use, por exemplo, 5 para 5 %).") from None
    if isinstance(v, str) and ("%" in v or f >= 1):
        f = f / 100.0
    elif not isinstance(v, str) and f >= 1:
        f = f / 100.0
    if not 0 < f < 1:
        raise InputError(f"{name} deve estar entre 0 e 100 % (recebido {v!r}).")
    return f


def validate_rule(rule: Rule) -> Rule:
    """Check and normalise a rule in place (tickers upper-case, defaults filled).

    Returns
    -------
    Rule
        The same object.

    Raises
    ------
    InputError
        pt-BR message naming the field: empty or long name, unknown kind/channel/severity,
        missing tickers, an invalid condition (with its position), an unknown strategy or
        parameter, a negative cooldown.
    """
    name = (rule.name or "").strip()
    if not name:
        raise InputError("Nome do alerta vazio: informe --name.")
    if len(name) > 120:
        raise InputError("Nome do alerta longo demais (máximo 120 caracteres).")
    rule.name = name
    kind = (rule.kind or "").strip().lower()
    if kind not in KINDS:
        raise InputError(f"Tipo de alerta desconhecido {rule.kind!r}. Use: {', '.join(KINDS)}.")
    rule.kind = kind
    tickers: list[str] = []
    for t in rule.tickers or []:
        for part in str(t).replace(";", ",").split(","):
            part = part.strip().upper()
            if not part:
                continue
            if not _TICKER_RE.match(part):
                raise InputError(f"Ticker inválido: {part!r}.")
            if part not in tickers:
                tickers.append(part)
    rule.tickers = tickers
    channels: list[str] = []
    for c in rule.channels or []:
        for part in str(c).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part not in CHANNELS:
                raise InputError(f"Canal desconhecido {part!r}. Use: {', '.join(CHANNELS)}.")
            if part not in channels:
                channels.append(part)
    rule.channels = channels or ["inapp"]
    try:
        rule.cooldown = int(rule.cooldown)
    except (TypeError, ValueError):
        raise InputError(f"Carência inválida: {rule.cooldown!r} (número de barras).") from None
    if rule.cooldown < 0:
        raise InputError("A carência (--cooldown) deve ser ≥ 0 barras.")
    sev = (rule.severity or _DEFAULT_SEVERITY[kind]).strip().lower()
    if sev not in SEVERITIES:
        raise InputError(
            f"Severidade desconhecida {rule.severity!r}. Use: {', '.join(SEVERITIES)}."
        )
    rule.severity = sev
    p = dict(rule.params or {})
    if kind in ("expr", "strategy", "anomaly") and not tickers:
        raise InputError("Informe ao menos um ticker (--ticker PETR4).")
    if kind == "expr":
        from core.alerts.expr import parse

        if not (rule.condition or "").strip():
            raise InputError(
                "Informe a condição (--condition), ex.: crosses_above(close, sma(50))."
            )
        parse(rule.condition)
        rule.condition = rule.condition.strip()
    elif kind == "strategy":
        from core.strategies import get_strategy

        name_s = str(p.get("strategy") or "").strip().lower()
        if not name_s:
            raise InputError("Informe a estratégia (--strategy), ex.: sma_cross.")
        sp = dict(p.get("strategy_params") or {})
        strat = get_strategy(name_s, **sp)  # validates name and parameters
        sp = {k: strat.p[k] for k in sp}  # stored coerced (int, float, bool)
        sigs = [str(s).strip().lower() for s in (p.get("signals") or STRATEGY_SIGNALS)]
        bad = [s for s in sigs if s not in STRATEGY_SIGNALS]
        if bad:
            raise InputError(f"Sinal desconhecido {bad[0]!r}. Use: {', '.join(STRATEGY_SIGNALS)}.")
        p = {"strategy": name_s, "strategy_params": sp, "signals": sigs}
    elif kind == "model":
        d = str(p.get("direction") or "both").lower()
        if d not in ("up", "down", "both"):
            raise InputError("Direção do modelo deve ser up, down ou both.")
        p = {"direction": d}
    elif kind == "anomaly":
        try:
            contamination = float(p.get("contamination", 0.02))
        except (TypeError, ValueError):
            raise InputError("A contaminação deve ser um número entre 0 e 0,2.") from None
        if not 0 < contamination <= 0.2:
            raise InputError("A contaminação deve estar entre 0 e 0,2.")
        sev_min = str(p.get("min_severity") or "baixa")
        if sev_min not in ("baixa", "média", "alta"):
            raise InputError("Severidade mínima da anomalia: baixa, média ou alta.")
        p = {"contamination": contamination, "min_severity": sev_min}
    elif kind == "account":
        thresholds = any(
            p.get(k) not in (None, "") for k in ("drawdown_pct", "win_pct", "loss_pct")
        )
        # a threshold rule (drawdown, trade win/loss) does not also fire on every fill
        default = ("drawdown",) if thresholds and not p.get("events") else ACCOUNT_EVENTS
        events = [str(e).strip().lower() for e in (p.get("events") or default)]
        bad = [e for e in events if e not in ACCOUNT_EVENTS]
        if bad:
            raise InputError(f"Evento desconhecido {bad[0]!r}. Use: {', '.join(ACCOUNT_EVENTS)}.")
        dd = p.get("drawdown_pct")
        win, loss = p.get("win_pct"), p.get("loss_pct")
        p = {
            "account": (str(p["account"]).strip() if p.get("account") else None),
            "events": events,
            "drawdown_pct": None if dd in (None, "") else _pct(dd, "drawdown_pct"),
            "win_pct": None if win in (None, "") else _pct(win, "win_pct"),
            "loss_pct": None if loss in (None, "") else _pct(loss, "loss_pct"),
        }
    elif kind == "daily_summary":
        p = {"account": (str(p["account"]).strip() if p.get("account") else None)}
    elif kind == "data_health":
        try:
            mb = int(p.get("max_behind", 1))
        except (TypeError, ValueError):
            raise InputError("max_behind deve ser um inteiro (pregões).") from None
        if mb < 1:
            raise InputError("max_behind deve ser ≥ 1 pregão.")
        p = {"max_behind": mb}
    rule.params = p
    return rule


def _from_row(r) -> Rule:
    return Rule(
        id=r.id,
        name=r.name,
        kind=r.kind,
        tickers=list(r.tickers or []),
        condition=r.condition or "",
        params=dict(r.params or {}),
        channels=list(r.channels or []),
        cooldown=int(r.cooldown or 0),
        severity=r.severity,
        enabled=bool(r.enabled),
        owner=r.owner,
        created_at=r.created_at,
        last_event_id=int(r.last_event_id or 0),
        state=dict(r.state or {}),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _owner_clause(q, owner: str | None):
    return q if owner is None else q.where(_T.c.owner == owner)


def _current_event_id(store: Store) -> int:
    """The newest paper-account event id (0 when there is none or no trading module)."""
    try:
        from core.trading.events import list_events
    except ImportError:
        return 0
    try:
        evs = list_events(store)
    except Exception:  # noqa: BLE001 - no events table yet: start from the beginning
        return 0
    return max((int(e.id) for e in evs), default=0)


def _current_trade_id(store: Store) -> int:
    """The newest closed paper trade id (0 when none or no trading tables)."""
    try:
        from core.trading.models import PaperTrade
    except ImportError:
        return 0
    try:
        with store.engine.connect() as conn:
            v = conn.execute(select(func.max(PaperTrade.__table__.c.id))).scalar()
    except Exception:  # noqa: BLE001 - no trading tables
        return 0
    return int(v or 0)


def _check_tickers(store: Store, rule: Rule) -> None:
    """Every ticker of the rule is stored (a typo such as PETR5 is refused with suggestions)."""
    for t in rule.tickers:
        store.instrument(t)  # raises UnknownTickerError ("Você quis dizer: ...?")


def add_rule(store: Store, rule: Rule) -> Rule:
    """Validate and store a new rule.

    An ``account`` rule starts after the newest existing event (it alerts on what happens
    from now on, not on the account's past).

    Returns
    -------
    Rule
        The stored rule with ``id`` and ``created_at``.

    Raises
    ------
    InputError
        Invalid rule (:func:`validate_rule`) or a rule of that name already exists for the
        owner.
    UnknownTickerError
        A ticker is not in the store (the message suggests close matches).
    """
    validate_rule(rule)
    _check_tickers(store, rule)
    with store.transaction() as conn:
        q = select(_T.c.id).where(func.lower(_T.c.name) == rule.name.lower())
        q = q.where(_T.c.owner.is_(None) if rule.owner is None else _T.c.owner == rule.owner)
        if conn.execute(q).first() is not None:
            raise InputError(f"Já existe um alerta chamado {rule.name!r}.")
        if rule.kind == "account":
            rule.last_event_id = _current_event_id(store)
            rule.state = {**(rule.state or {}), "last_trade_id": _current_trade_id(store)}
        now = _now()
        res = conn.execute(
            insert(_T).values(
                name=rule.name,
                owner=rule.owner,
                kind=rule.kind,
                tickers=rule.tickers,
                condition=rule.condition,
                params=rule.params,
                channels=rule.channels,
                cooldown=rule.cooldown,
                severity=rule.severity,
                enabled=rule.enabled,
                last_event_id=rule.last_event_id,
                state=rule.state or {},
                created_at=now,
            )
        )
        rule.id = int(res.inserted_primary_key[0])
        rule.created_at = now
    return rule


def list_rules(
    store: Store,
    owner: str | None = None,
    *,
    kind: str | tuple[str, ...] | None = None,
    enabled: bool | None = None,
) -> list[Rule]:
    """Stored rules ordered by id (``owner=None``: every owner's)."""
    q = _owner_clause(select(_T), owner).order_by(_T.c.id)
    if kind is not None:
        kinds = (kind,) if isinstance(kind, str) else tuple(kind)
        q = q.where(_T.c.kind.in_(kinds))
    if enabled is not None:
        q = q.where(_T.c.enabled == bool(enabled))
    with store.engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(q).all()]


def get_rule(store: Store, name_or_id: str | int, owner: str | None = None) -> Rule:
    """One rule by name (case-insensitive) or id.

    Raises
    ------
    InputError
        No such rule for the owner, or the name is ambiguous across owners.
    """
    q = _owner_clause(select(_T), owner)
    if isinstance(name_or_id, int):
        q = q.where(_T.c.id == name_or_id)
    else:
        q = q.where(func.lower(_T.c.name) == str(name_or_id).strip().lower())
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        raise InputError(f"Alerta {name_or_id!r} não encontrado.")
    if len(rows) > 1:
        raise InputError(
            f"Há {len(rows)} alertas chamados {name_or_id!r} (de usuários diferentes): use o id."
        )
    return _from_row(rows[0])


def remove_rule(store: Store, name_or_id: str | int, owner: str | None = None) -> Rule:
    """Delete a rule; its firings stay in the history (``rule_id`` becomes NULL)."""
    rule = get_rule(store, name_or_id, owner)
    with store.transaction() as conn:
        conn.execute(delete(_T).where(_T.c.id == rule.id))
    return rule


def update_rule(store: Store, rule: Rule) -> Rule:
    """Validate and save the editable fields of a stored rule (``rule.id`` set)."""
    if rule.id is None:
        raise InputError("Alerta sem id: salve-o antes com add_rule.")
    validate_rule(rule)
    _check_tickers(store, rule)
    with store.transaction() as conn:
        q = select(_T.c.id).where(
            func.lower(_T.c.name) == rule.name.lower(),
            _T.c.id != rule.id,
            _T.c.owner.is_(None) if rule.owner is None else _T.c.owner == rule.owner,
        )
        if conn.execute(q).first() is not None:
            raise InputError(f"Já existe um alerta chamado {rule.name!r}.")
        conn.execute(
            update(_T)
            .where(_T.c.id == rule.id)
            .values(
                name=rule.name,
                kind=rule.kind,
                tickers=rule.tickers,
                condition=rule.condition,
                params=rule.params,
                channels=rule.channels,
                cooldown=rule.cooldown,
                severity=rule.severity,
                enabled=rule.enabled,
                updated_at=_now(),
            )
        )
    return rule


def set_enabled(
    store: Store, name_or_id: str | int, enabled: bool, owner: str | None = None
) -> Rule:
    """Pause (``enabled=False``) or resume a rule."""
    rule = get_rule(store, name_or_id, owner)
    with store.transaction() as conn:
        conn.execute(
            update(_T).where(_T.c.id == rule.id).values(enabled=bool(enabled), updated_at=_now())
        )
    rule.enabled = bool(enabled)
    return rule


def save_progress(store: Store, rule: Rule) -> None:
    """Persist an account rule's cursor and state (the engine calls this)."""
    with store.transaction() as conn:
        conn.execute(
            update(_T)
            .where(_T.c.id == rule.id)
            .values(last_event_id=int(rule.last_event_id), state=rule.state or {})
        )
