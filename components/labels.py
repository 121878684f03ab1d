"""pt-BR display names for the code values the UI shows (kinds, sources, objectives, targets).

Codes stay in the database, the CLI and JSON; the pages show these names. Names of
strategies, their parameters and portfolio objectives live next to their code in ``core``
(``Strategy.label``/``description``, ``Param.label``, ``core.portfolio.OBJECTIVES``); this
module covers the small vocabularies that have no such home.
"""

from __future__ import annotations

__all__ = [
    "KIND_LABELS",
    "SOURCE_LABELS",
    "TARGET_LABELS",
    "BT_OBJECTIVE_LABELS",
    "kind_label",
    "source_label",
    "sources_label",
    "target_label",
    "bt_objective_label",
]

#: Instrument kinds (``Instrument.kind``; the shared vocabulary of the contracts).
KIND_LABELS = {
    "stock": "Ação",
    "etf": "ETF",
    "fii": "FII",
    "bdr": "BDR",
    "index": "Índice",
    "fund": "Fundo",
    "future": "Futuro",
    "option": "Opção",
    "other": "Outro",
}
#: Data sources of bars and imports.
SOURCE_LABELS = {
    "bundled": "dados embutidos",
    "cotahist": "COTAHIST (B3)",
    "yahoo": "Yahoo",
    "investing": "investing.com",
    "profit": "ProfitChart",
    "csv": "CSV",
    "mt5": "MetaTrader 5",
    "actions": "eventos corporativos",
    "manual": "manual",
}
#: ML targets (``core.ml.targets.TARGETS``).
TARGET_LABELS = {
    "direction": "Direção do próximo pregão",
    "three_class": "3 classes em 5 pregões (±2%)",
}
#: Walk-forward objectives (``core.backtest.optimize.OBJECTIVES``).
BT_OBJECTIVE_LABELS = {
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "calmar": "Calmar",
    "total_return": "Retorno total",
    "profit_factor": "Fator de lucro",
}


def _label(table: dict, code) -> str:
    return table.get(code, "" if code is None else str(code))


def kind_label(code) -> str:
    """``"stock" -> "Ação"`` (unknown codes are shown as given)."""
    return _label(KIND_LABELS, code)


def source_label(code) -> str:
    """``"bundled" -> "dados embutidos"``."""
    return _label(SOURCE_LABELS, code)


def sources_label(codes) -> str:
    """A comma-separated list of sources (``"bundled, yahoo"`` or a list) in pt-BR."""
    if codes is None:
        return ""
    items = codes.split(",") if isinstance(codes, str) else list(codes)
    return ", ".join(source_label(c.strip()) for c in items if str(c).strip())


def target_label(code) -> str:
    """``"direction" -> "Direção do próximo pregão"``."""
    return _label(TARGET_LABELS, code)


def bt_objective_label(code) -> str:
    """``"sharpe" -> "Sharpe"``, ``"total_return" -> "Retorno total"``."""
    return _label(BT_OBJECTIVE_LABELS, code)
