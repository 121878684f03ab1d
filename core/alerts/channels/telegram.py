"""Telegram channel: the Bot API's ``sendMessage`` with HTML parse mode.

Request (Telegram Bot API, https://core.telegram.org/bots/api#sendmessage)::

    POST {api_url}/bot{token}/sendMessage
    Content-Type: application/json
    {"chat_id": "<id>", "text": "<html>", "parse_mode": "HTML",
     "link_preview_options": {"is_disabled": true}}

Answer: ``{"ok": true, "result": {"message_id": ..., ...}}`` or ``{"ok": false,
"error_code": 429, "description": "Too Many Requests: retry after 5", "parameters":
{"retry_after": 5}}``.

Parse mode: HTML, not MarkdownV2. The Bot API's HTML style needs only three characters
escaped in text (``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;``, "Formatting options"
section); MarkdownV2 needs eighteen (``_ * [ ] ( ) ~ ` > # + - = | { } . !``), and pt-BR prices
(``R$ 1.234,56``), negative returns and rule names are full of them: one miss and Telegram
refuses the whole message with HTTP 400. :func:`escape_markdown_v2` is provided for callers
that need that mode, with the same rules as the documentation.

Limits: a message has at most 4096 characters after entity parsing; longer texts are cut
with "…". Rate: about one message per second per chat (enforced by the dispatcher).
"""

from __future__ import annotations

from typing import Any

from core.alerts.channels.base import (
    ChannelConfig,
    DeliveryResult,
    format_values,
    http_failure,
    network_failure,
    post_json,
    severity_of,
    title_of,
    when_text,
)
from core.alerts.channels.base import _get as get

__all__ = ["send", "send_text", "render", "escape_html", "escape_markdown_v2", "MAX_CHARS"]

#: Telegram's limit on a message's text (characters after entity parsing).
MAX_CHARS = 4096
_ICON = {"info": "🔔", "warning": "⚠️", "critical": "🚨"}
_MDV2 = set("_*[]()~`>#+-=|{}.!\\")


def escape_html(text: str) -> str:
    """Escape ``text`` for ``parse_mode="HTML"``: ``&``, ``<`` and ``>`` only, as the Bot API
    documents (``&`` first, so entities are not escaped twice)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_markdown_v2(text: str) -> str:
    """Escape ``text`` for ``parse_mode="MarkdownV2"`` outside entities: each of
    ``_ * [ ] ( ) ~ ` > # + - = | { } . !`` and ``\\`` gets a preceding backslash."""
    return "".join("\\" + ch if ch in _MDV2 else ch for ch in str(text))


def render(firing: Any) -> str:
    """The HTML text of a firing: icon and bold title, message, values, bar time."""
    sev = severity_of(firing)
    lines = [f"{_ICON[sev]} <b>{escape_html(title_of(firing))}</b>"]
    msg = get(firing, "message")
    if msg:
        lines.append(escape_html(msg))
    vals = format_values(get(firing, "values"))
    if vals:
        lines.append("")
        lines.extend(f"• {escape_html(k)}: <b>{escape_html(v)}</b>" for k, v in vals)
    when = when_text(firing)
    if when:
        lines.append("")
        lines.append(f"<i>{escape_html(when)}</i>")
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:  # cut on a plain-text line: tags of earlier lines are closed
        text = escape_html(str(msg or title_of(firing)))[: MAX_CHARS - 1] + "…"
    return text


def send_text(
    config: ChannelConfig, chat_id: str, text: str, *, html: bool = True
) -> DeliveryResult:
    """One ``sendMessage`` call with ``text`` (already escaped when ``html``).

    Returns
    -------
    DeliveryResult
        ``detail`` holds the ``message_id`` on success; 429 carries ``retry_after``.
    """
    if not config.telegram_token:
        return DeliveryResult(False, "telegram", error="Telegram não configurado (token)")
    url = f"{config.telegram_api_url.rstrip('/')}/bot{config.telegram_token}/sendMessage"
    payload: dict[str, Any] = {"chat_id": str(chat_id), "text": text}
    if html:
        payload["parse_mode"] = "HTML"
    payload["link_preview_options"] = {"is_disabled": True}
    try:
        resp = post_json(url, payload, config.timeout)
    except OSError as exc:
        return network_failure("telegram", exc, config)
    data = resp.json()
    if 200 <= resp.status < 300 and isinstance(data, dict) and data.get("ok"):
        result = data.get("result") or {}
        return DeliveryResult(
            True, "telegram", status_code=resp.status, detail=str(result.get("message_id", ""))
        )
    desc = data.get("description", "") if isinstance(data, dict) else ""
    res = http_failure("telegram", resp, config, desc)
    params = data.get("parameters") if isinstance(data, dict) else None
    if isinstance(params, dict) and params.get("retry_after") is not None:
        res = DeliveryResult(
            False,
            "telegram",
            retryable=True,
            error=res.error,
            retry_after=float(params["retry_after"]),
            status_code=resp.status,
        )
    return res


def send(config: ChannelConfig, firing: Any, *, target: str | None = None) -> DeliveryResult:
    """Send ``firing`` to one chat (``target``; default the first configured chat id).

    Parameters
    ----------
    config : ChannelConfig
        Token, chat ids, API URL and timeout.
    firing : Firing or dict
        The firing (see :func:`core.alerts.channels.base.firing_dict`).
    target : str, optional
        Chat id.

    Returns
    -------
    DeliveryResult
        Never raises for a delivery problem.
    """
    chat = target or (config.telegram_chat_ids[0] if config.telegram_chat_ids else "")
    if not (config.telegram_token and chat):
        return DeliveryResult(False, "telegram", error="Telegram não configurado (token e chat)")
    return send_text(config, chat, render(firing))
