"""Generic webhook channel: one JSON POST per firing.

Body (UTF-8 JSON, keys are a contract: add, never rename)::

    {"event": "alert.firing", "app": "pregao", "delivery_id": <int or null>,
     "firing": {"id", "rule_id", "rule_name", "kind", "ticker", "bar_time", "fired_at",
                "values", "message", "severity"}}

Times are ISO 8601, naive America/Sao_Paulo. The header ``X-Pregao-Delivery`` repeats the
delivery id so a receiver can drop a duplicate (a retry after a timeout whose first attempt
did arrive). Any 2xx is success; 408, 429 and 5xx are retried.
"""

from __future__ import annotations

from typing import Any

from core.alerts.channels.base import (
    ChannelConfig,
    DeliveryResult,
    firing_dict,
    http_failure,
    network_failure,
    post_json,
)

__all__ = ["send", "payload"]


def payload(firing: Any, delivery_id: int | None = None) -> dict:
    """The JSON body for ``firing``."""
    return {
        "event": "alert.firing",
        "app": "pregao",
        "delivery_id": delivery_id,
        "firing": firing_dict(firing),
    }


def send(
    config: ChannelConfig, firing: Any, *, target: str | None = None, delivery_id: int | None = None
) -> DeliveryResult:
    """POST ``firing`` to ``config.webhook_url`` (one attempt; never raises)."""
    if not config.webhook_url:
        return DeliveryResult(False, "webhook", error="Webhook não configurado (URL)")
    headers = {"X-Pregao-Delivery": str(delivery_id)} if delivery_id is not None else {}
    try:
        resp = post_json(config.webhook_url, payload(firing, delivery_id), config.timeout, headers)
    except OSError as exc:
        return network_failure("webhook", exc, config)
    if 200 <= resp.status < 300:
        return DeliveryResult(True, "webhook", status_code=resp.status)
    return http_failure("webhook", resp, config)
