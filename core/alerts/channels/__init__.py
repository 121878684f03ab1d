"""Alert channels: ``inapp``, ``telegram``, ``discord``, ``email``, ``webhook``.

Each module has ``send(config, firing, *, target=None) -> DeliveryResult``: one attempt,
bounded by ``config.timeout``, never raising for a delivery problem (see
:mod:`core.alerts.channels.base`). :func:`send` picks the module by name.
"""

from __future__ import annotations

import importlib
from typing import Any

from core.alerts.channels.base import (
    CHANNEL_LABELS,
    CHANNELS,
    DEFAULT_TELEGRAM_API_URL,
    EXTERNAL_CHANNELS,
    ChannelConfig,
    DeliveryResult,
)

__all__ = [
    "CHANNELS",
    "EXTERNAL_CHANNELS",
    "CHANNEL_LABELS",
    "DEFAULT_TELEGRAM_API_URL",
    "ChannelConfig",
    "DeliveryResult",
    "send",
]


def send(channel: str, config: ChannelConfig, firing: Any, **kw) -> DeliveryResult:
    """Send ``firing`` through ``channel`` (one attempt; see each module).

    Raises
    ------
    ValueError
        For an unknown channel name.
    """
    if channel not in CHANNELS:
        raise ValueError(f"canal desconhecido {channel!r} (use {', '.join(CHANNELS)})")
    module = importlib.import_module(f"core.alerts.channels.{channel}")
    return module.send(config, firing, **kw)
