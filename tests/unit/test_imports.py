"""Pin the public names of the foundation modules (renaming one breaks scripts and pages)."""

import importlib

import pytest

PUBLIC = {
    "core.errors": [
        "PregaoError",
        "InputError",
        "UnknownTickerError",
        "DataFormatError",
        "DataSourceError",
        "StoreError",
    ],
    "core.data.schema": ["BAR_COLUMNS", "validate_bars", "empty_bars"],
    "core.data.store": ["init_db", "Store", "WriteResult"],
    "core.data.calendar": ["b3_sessions", "non_sessions", "missing_sessions", "next_session"],
    "core.data.bundled": ["load_bundled", "clean_bars", "read_bundled_bars", "read_yahoo_csv"],
    "core.data.history": ["common_history", "CommonHistory"],
    "core.indicators": [
        "sma",
        "ema",
        "rsi",
        "macd",
        "bollinger",
        "atr",
        "adx",
        "obv",
        "stochastic",
    ],
    "core.market": [
        "market_snapshot",
        "period_change",
        "quote_stats",
        "beta",
        "annualised_volatility",
        "resolve_range",
    ],
    "core.quotes": ["quote_view", "QuoteRequest", "QuoteView", "PANELS"],
    "core.rates": [
        "cdi_annual",
        "cdi_daily_returns",
        "PERIODS_PER_YEAR",
        "cdi_series",
        "import_sgs",
        "CDI_ANNUAL_PUBLISHED",
    ],
    "core.data.tickers": ["validate_ticker", "is_valid_ticker", "TICKER_PATTERN"],
    "core.data.upsert": ["upsert_bars", "DEFAULT_PRIORITY", "UpsertCounts"],
    "core.data.watchlist": ["watchlist", "set_watchlist", "add_to_watchlist"],
    "core.data.actions": ["load_actions", "ACTION_KINDS", "split_adjusted", "recompute_adj_close"],
    "core.data.models": ["INSTRUMENT_KINDS", "VOLUME_UNITS", "DEFAULT_LOT"],
    "core.backtest.costs": ["B3Costs", "B3_DEFAULT", "NO_COSTS"],
    "core.alerts.expr": ["parse", "evaluate", "Expression", "FIELDS", "FUNCTIONS"],
    "core.alerts.rules": ["Rule", "KINDS", "CHANNELS", "add_rule", "list_rules", "remove_rule"],
    "core.alerts.engine": [
        "Firing",
        "evaluate_bar",
        "evaluate_range",
        "evaluate_account_events",
        "run_daily_summary",
        "check_data_health",
        "list_firings",
    ],
    "core.alerts.dispatch": [
        "dispatch",
        "enqueue",
        "configure",
        "start_worker",
        "stop_worker",
        "send_test",
        "list_deliveries",
        "channel_statuses",
        "pause_channel",
        "resume_channel",
        "RetryPolicy",
    ],
    "core.alerts.channels": ["ChannelConfig", "DeliveryResult", "CHANNELS", "send"],
    "core.alerts.channels.telegram": ["send", "escape_html", "escape_markdown_v2"],
    "core.alerts.channels.discord": ["send", "payload", "COLORS"],
    "core.alerts.channels.email": ["send", "build_message"],
    "core.alerts.channels.webhook": ["send", "payload"],
    "core.alerts.channels.inapp": ["send", "bell_state", "unread_count", "inbox", "mark_read"],
    "core.alerts.bot": ["TelegramBot", "answer", "COMMANDS"],
    "core.alerts.builder": ["operand_text", "condition_text", "join", "OPERANDS", "COMPARISONS"],
    "core.alerts.history": ["history", "HistoryEntry"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module):
    mod = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert name in mod.__all__, f"{module}.{name} missing from __all__"
        assert hasattr(mod, name)
