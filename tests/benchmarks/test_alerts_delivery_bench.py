"""Alert delivery figures (printed, never asserted): what ``dispatch`` costs the caller (the
engine) per firing, and what the bell's poll costs with a large inbox.

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_alerts_delivery_bench.py -q -s``
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from core.alerts import dispatch as dp
from core.alerts.channels import ChannelConfig
from core.alerts.channels.inapp import bell_state
from core.alerts.delivery_models import AlertInbox
from core.data.store import init_db
from tests.benchmarks.conftest import median_time, report
from tests.fakes.firing import FakeFiring

CFG = ChannelConfig(
    telegram_token="1:t",
    telegram_chat_ids=("1001",),
    discord_webhook_url="http://127.0.0.1:9/api/webhooks/1/x",
    webhook_url="http://127.0.0.1:9/hook",
    smtp_host="127.0.0.1",
    smtp_from="a@b.c",
    smtp_to=("d@e.f",),
)


def test_dispatch_and_bell_costs(tmp_path):
    store = init_db(f"sqlite:///{tmp_path / 'b.db'}")
    dp.configure(CFG)  # no worker: measures only what the caller waits for
    n = [0]

    def one():
        n[0] += 1
        dp.dispatch(store, FakeFiring(id=n[0], channels=["inapp", "telegram", "discord",
                                                          "email", "webhook"]))  # fmt: skip

    med_dispatch, _ = median_time(one, repeat=50, warmup=3)
    now = dt.datetime(2025, 1, 1)
    rows = [
        dict(
            firing_id=100_000 + i,
            rule_name="r",
            ticker="PETR4",
            severity="info",
            message="m",
            created_at=now,
            read_at=None if i % 10 == 0 else now,
        )  # fmt: skip
        for i in range(20_000)
    ]
    with store.transaction() as conn:
        conn.execute(insert(AlertInbox.__table__), rows)
    med_bell, _ = median_time(lambda: bell_state(store), repeat=50, warmup=3)
    dp.configure(None)
    report(
        "Alert delivery (SQLite file)",
        [
            ("dispatch(): in-app + 4 external rows queued", f"{med_dispatch * 1000:.1f} ms median"),
            ("bell poll, 20 000 inbox rows, 2 000 unread", f"{med_bell * 1000:.2f} ms median"),
        ],
    )
