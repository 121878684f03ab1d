"""Paper-trading accounts: create, list, fetch.

An account holds its cost model and engine configuration (the same
:class:`core.backtest.engine.EngineConfig` a backtest takes: costs, slippage, lots), its risk
rules (:class:`core.trading.risk.RiskRules`) and an optional participation cap (fraction of
a bar's volume an order may take). Creating one writes the account row and the initial
deposit in the cash ledger in one transaction.

``owner`` (issue 15): the user name owning the account, None for the team / local mode;
listing and fetching take ``owner=None`` (no filtering).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.backtest.costs import cost_preset
from core.backtest.engine import EngineConfig
from core.errors import InputError
from core.textfmt import brl
from core.trading.models import PaperAccount, PaperLedger
from core.trading.risk import RiskRules

__all__ = ["Account", "create_account", "list_accounts", "get_account", "update_risk", "wall_now"]

_ACC = PaperAccount.__table__
_LED = PaperLedger.__table__
_MAX_NAME = 100
#: Settlement date of the initial deposit: available at once, whatever the account's clock
#: (a replay account trades an earlier period than its creation date).
DEPOSIT_SETTLE = pd.Timestamp("1900-01-01")


def wall_now() -> pd.Timestamp:
    """Current São Paulo wall time, naive (the store's convention), to the microsecond."""
    return pd.Timestamp.now(tz="America/Sao_Paulo").tz_localize(None)


@dataclass(frozen=True)
class Account:
    """A paper account's configuration.

    Attributes
    ----------
    id : int
    name : str
    owner : str or None
        User name (None: team / local mode).
    initial_cash : float
        R$ deposited at creation.
    costs : str
        Cost preset name (``b3``, ``none``) or ``custom``.
    engine : EngineConfig
        Costs, slippage, lots (``engine.sizing.lot_size``/``fractional``), short selling.
    risk : RiskRules
    participation : float or None
        Max fraction of a bar's volume one order may fill on that bar (None: no cap).
    created_at : pandas.Timestamp
    blocked : bool
    block_reason : str
    """

    id: int
    name: str
    owner: str | None
    initial_cash: float
    costs: str
    engine: EngineConfig
    risk: RiskRules
    participation: float | None = None
    created_at: pd.Timestamp | None = None
    blocked: bool = False
    block_reason: str = ""
    extra: dict = field(default_factory=dict)


def _engine_dict(engine: EngineConfig, participation: float | None) -> dict:
    d = engine.to_dict()
    d["participation"] = participation
    return d


def account_from_row(r) -> Account:
    """Build an :class:`Account` from a ``paper_accounts`` row mapping."""
    eng = dict(r["engine"] or {})
    part = eng.pop("participation", None)
    return Account(
        id=int(r["id"]),
        name=r["name"],
        owner=r["owner"],
        initial_cash=float(r["initial_cash"]),
        costs=r["costs"],
        engine=EngineConfig.from_dict(eng),
        risk=RiskRules.from_dict(r["risk"]),
        participation=part,
        created_at=pd.Timestamp(r["created_at"]),
        blocked=bool(r["blocked"]),
        block_reason=r["block_reason"] or "",
    )


def _validate_name(name: str) -> str:
    n = (name or "").strip()
    if not n:
        raise InputError("Nome da conta vazio: informe um nome (ex.: 'wave3-2024').")
    if len(n) > _MAX_NAME:
        raise InputError(f"Nome da conta longo demais ({len(n)} caracteres; máximo {_MAX_NAME}).")
    return n


def create_account(
    store,
    name: str,
    cash: float,
    *,
    costs: str = "b3",
    risk: RiskRules | None = None,
    engine: EngineConfig | None = None,
    participation: float | None = None,
    owner: str | None = None,
) -> Account:
    """Create a paper account with ``cash`` R$ deposited.

    Parameters
    ----------
    store : Store
    name : str
        Unique account name.
    cash : float
        Initial cash in R$ (> 0).
    costs : {"b3", "none"}
        Cost preset (:data:`core.backtest.costs.COST_PRESETS`); ignored when ``engine`` is
        given (its ``costs`` apply).
    risk : RiskRules, optional
        Default :class:`RiskRules` (max drawdown 15 %).
    engine : EngineConfig, optional
        Engine configuration (costs, slippage, lots, shorts); default ``EngineConfig(cash,
        costs=preset)``.
    participation : float, optional
        Cap on the fraction of a bar's volume one order fills per bar, in (0, 1].
    owner : str, optional
        User name owning the account (None: team / local mode).

    Returns
    -------
    Account

    Raises
    ------
    InputError
        Empty/duplicate name, non-positive cash, unknown cost preset, bad participation.
    """
    n = _validate_name(name)
    try:
        cash = float(cash)
    except (TypeError, ValueError):
        raise InputError(f"Capital inicial inválido: {cash!r} (use um valor em R$).") from None
    if not cash > 0 or cash != cash or cash == float("inf"):
        raise InputError(f"O capital inicial deve ser positivo (recebido {cash}).")
    if participation is not None and not 0 < float(participation) <= 1:
        raise InputError(
            f"Participação máxima no volume deve ficar em (0, 1] (recebido {participation})."
        )
    if engine is None:
        engine = EngineConfig(cash=cash, costs=cost_preset(costs))
        label = str(costs).lower()
    else:
        engine = replace(engine, cash=cash)
        label = "custom"
    risk = risk or RiskRules()
    now = wall_now().to_pydatetime()
    with store.transaction() as conn:
        if conn.execute(select(_ACC.c.id).where(_ACC.c.name == n)).first() is not None:
            raise InputError(f"Já existe uma conta chamada {n!r}: escolha outro nome.")
        try:
            res = conn.execute(
                _ACC.insert().values(
                    name=n,
                    owner=owner,
                    created_at=now,
                    initial_cash=cash,
                    costs=label,
                    engine=_engine_dict(engine, participation),
                    risk=risk.to_dict(),
                    clock=None,
                    session=None,
                    day_start_equity=cash,
                    peak_equity=cash,
                    blocked=False,
                    block_reason="",
                    version=0,
                )
            )
        except IntegrityError:
            raise InputError(f"Já existe uma conta chamada {n!r}: escolha outro nome.") from None
        aid = int(res.inserted_primary_key[0])
        conn.execute(
            _LED.insert().values(
                account_id=aid,
                time=now,
                settle_date=DEPOSIT_SETTLE.to_pydatetime(),  # available from the start
                kind="deposit",
                ticker=None,
                amount=cash,
                balance=cash,
                description=f"Depósito inicial de {brl(cash)}",
            )
        )
    return get_account(store, n)


def list_accounts(store, owner: str | None = None) -> list[Account]:
    """Every account (of ``owner`` when given), by name."""
    q = select(_ACC).order_by(_ACC.c.name)
    if owner is not None:
        q = q.where(_ACC.c.owner == owner)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [account_from_row(r) for r in rows]


def get_account(store, name: str, owner: str | None = None) -> Account:
    """The account called ``name``.

    Raises
    ------
    InputError
        No such account (of ``owner`` when given); the message lists the known names.
    """
    n = (name or "").strip()
    q = select(_ACC).where(_ACC.c.name == n)
    if owner is not None:
        q = q.where(_ACC.c.owner == owner)
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
    if row is None:
        known = [a.name for a in list_accounts(store, owner)]
        hint = f" Contas: {', '.join(known[:10])}." if known else " Crie uma com: paper create."
        raise InputError(f"Conta {n!r} não encontrada.{hint}")
    return account_from_row(row)


def update_risk(store, name: str, risk: RiskRules) -> Account:
    """Replace the risk rules of an account."""
    acc = get_account(store, name)
    with store.transaction() as conn:
        conn.execute(_ACC.update().where(_ACC.c.id == acc.id).values(risk=risk.to_dict()))
    return get_account(store, name)
