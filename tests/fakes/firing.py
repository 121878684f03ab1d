"""A stand-in with the contract's ``Firing`` fields (core.alerts builds the real one)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class FakeFiring:
    id: int | None = 1
    rule_id: int | None = 7
    rule_name: str = "PETR4 cruza acima da MMS 50"
    kind: str = "expr"
    ticker: str | None = "PETR4"
    bar_time: pd.Timestamp | None = pd.Timestamp("2025-06-02")
    fired_at: dt.datetime | None = dt.datetime(2025, 6, 2, 18, 45, 3)
    values: dict = field(default_factory=lambda: {"close": 38.5, "sma(50)": 37.123})
    message: str = "PETR4 fechou a R$ 38,50, acima da MMS 50 (R$ 37,12)"
    channels: list = field(default_factory=lambda: ["inapp", "telegram"])
    severity: str = "warning"
