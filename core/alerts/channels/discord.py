"""Discord channel: an incoming webhook with one embed (title, description, fields, colour).

Request (Discord "Execute Webhook", https://discord.com/developers/docs/resources/webhook)::

    POST {webhook_url}
    Content-Type: application/json
    {"username": "Pregão", "allowed_mentions": {"parse": []},
     "embeds": [{"title": ..., "description": ..., "color": <int>,
                 "fields": [{"name": ..., "value": ..., "inline": true}, ...],
                 "footer": {"text": ...}, "timestamp": "<ISO 8601>"}]}

Answer: ``204 No Content`` (or ``200`` with the message when ``?wait=true``); a rate limit is
``429`` with ``{"message": "You are being rate limited.", "retry_after": 0.5, "global":
false}``. Embed limits (documented): title 256, description 4096, 25 fields, field name 256,
value 1024, 6000 characters in all — texts are cut to fit. ``allowed_mentions`` with an empty
``parse`` list keeps an ``@everyone`` in a rule name from pinging the server.

Colour by severity (seed 001 used green/red by side): info blue ``0x3498DB``, warning amber
``0xF1C40F``, critical red ``0xE74C3C``.
"""

from __future__ import annotations

from typing import Any

from core.alerts.channels.base import (
    ChannelConfig,
    DeliveryResult,
    firing_dict,
    format_values,
    http_failure,
    network_failure,
    post_json,
    severity_of,
    title_of,
    when_text,
)
from core.alerts.channels.base import _get as get

__all__ = ["send", "payload", "COLORS"]

#: Embed colour (24-bit RGB integer) by severity.
COLORS: dict[str, int] = {"info": 0x3498DB, "warning": 0xF1C40F, "critical": 0xE74C3C}


def _cut(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def payload(firing: Any) -> dict:
    """The webhook JSON body for ``firing`` (one embed)."""
    d = firing_dict(firing)
    fields = []
    if d["ticker"]:
        fields.append({"name": "Ativo", "value": _cut(d["ticker"], 1024), "inline": True})
    fields.extend(
        {"name": _cut(k, 256), "value": _cut(v, 1024), "inline": True}
        for k, v in format_values(get(firing, "values"))
    )
    when = when_text(firing)
    if when:
        fields.append({"name": "Barra", "value": when, "inline": True})
    embed: dict[str, Any] = {
        "title": _cut(title_of(firing), 256),
        "description": _cut(d["message"], 2048),
        "color": COLORS[severity_of(firing)],
        "fields": fields[:25],
        "footer": {"text": f"Pregão · regra {d['rule_name']}"[:256]},
    }
    if d["fired_at"]:  # the engine's fired_at is naive UTC; Discord wants an explicit offset
        ts = d["fired_at"]
        embed["timestamp"] = ts if ("+" in ts[10:] or ts.endswith("Z")) else ts + "+00:00"
    return {"username": "Pregão", "allowed_mentions": {"parse": []}, "embeds": [embed]}


def send(config: ChannelConfig, firing: Any, *, target: str | None = None) -> DeliveryResult:
    """POST ``firing`` as an embed to ``config.discord_webhook_url`` (one attempt).

    Returns
    -------
    DeliveryResult
        2xx = sent; 429 carries ``retry_after`` (seconds, from the JSON body or header).
    """
    if not config.discord_webhook_url:
        return DeliveryResult(False, "discord", error="Discord não configurado (webhook)")
    try:
        resp = post_json(config.discord_webhook_url, payload(firing), config.timeout)
    except OSError as exc:
        return network_failure("discord", exc, config)
    if 200 <= resp.status < 300:
        return DeliveryResult(True, "discord", status_code=resp.status)
    data = resp.json()
    desc = data.get("message", "") if isinstance(data, dict) else ""
    res = http_failure("discord", resp, config, desc)
    if isinstance(data, dict) and data.get("retry_after") is not None:
        res = DeliveryResult(
            False,
            "discord",
            retryable=True,
            error=res.error,
            retry_after=float(data["retry_after"]),
            status_code=resp.status,
        )
    return res
