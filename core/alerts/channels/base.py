"""What every alert channel shares: its configuration, its result and the message text.

A channel is a module of :mod:`core.alerts.channels` with one function
``send(config, firing, *, target=None) -> DeliveryResult``. It performs ONE attempt, bounded by
``config.timeout`` seconds, and never raises for a delivery problem: the result says whether
the failure is worth retrying (network errors, timeouts, HTTP 429 and 5xx) or not (bad token,
unknown chat, malformed address). Retries, backoff and rate limits belong to
:mod:`core.alerts.dispatch`.

Secrets (the Telegram token, which sits in the Bot API's URL path; the Discord webhook URL,
whose last segment is a token; the SMTP password; the generic webhook URL, which often
carries a key) never appear in a result, a log line or an error message:
:meth:`ChannelConfig.redact` replaces each by ``***``.

``core`` never reads the environment for these settings: ``dashboard.settings`` builds a
:class:`ChannelConfig` from ``PREGAO_TELEGRAM_*``, ``PREGAO_DISCORD_WEBHOOK_URL``,
``PREGAO_SMTP_*`` and ``PREGAO_WEBHOOK_URL`` and passes it in.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from core import textfmt

__all__ = [
    "CHANNELS",
    "EXTERNAL_CHANNELS",
    "CHANNEL_LABELS",
    "DEFAULT_TELEGRAM_API_URL",
    "ChannelConfig",
    "DeliveryResult",
    "HttpResponse",
    "post_json",
    "network_failure",
    "http_failure",
    "when_text",
    "firing_dict",
    "format_values",
    "severity_of",
    "title_of",
    "sample_firing",
]

#: Every channel name, in the order the page lists them.
CHANNELS: tuple[str, ...] = ("inapp", "telegram", "discord", "email", "webhook")
#: Channels that leave the app (queued, retried, rate limited).
EXTERNAL_CHANNELS: tuple[str, ...] = ("telegram", "discord", "email", "webhook")
#: pt-BR names shown on the page and in CLI messages.
CHANNEL_LABELS: dict[str, str] = {
    "inapp": "No app",
    "telegram": "Telegram",
    "discord": "Discord",
    "email": "E-mail",
    "webhook": "Webhook",
}
#: The public Bot API (``PREGAO_TELEGRAM_API_URL`` overrides it, e.g. a local Bot API server).
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
_SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class ChannelConfig:
    """Where and how each channel delivers (built from settings by the dashboard).

    Parameters
    ----------
    telegram_token : str
        Bot token from @BotFather (``PREGAO_TELEGRAM_TOKEN``); secret.
    telegram_chat_ids : tuple of str
        ``PREGAO_TELEGRAM_CHAT_ID``, comma separated: every listed chat receives the alerts,
        and only these chats may talk to the bot. Group ids are negative numbers.
    telegram_api_url : str
        Bot API base URL, without the trailing ``/bot<token>`` (default the public API).
    discord_webhook_url : str
        ``https://discord.com/api/webhooks/<id>/<token>``; secret.
    smtp_host, smtp_port, smtp_user, smtp_password, smtp_from, smtp_to
        SMTP server (port 465 = implicit TLS; any other port upgrades with STARTTLS when
        the server offers it), login (optional), sender and recipients (comma separated).
    webhook_url : str
        Generic JSON webhook; secret (URLs often carry a key).
    timeout : float
        Seconds one attempt may take (connect + answer), default 10.
    """

    telegram_token: str = ""
    telegram_chat_ids: tuple[str, ...] = ()
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    discord_webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_to: tuple[str, ...] = ()
    webhook_url: str = ""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not (isinstance(self.timeout, int | float) and 0 < self.timeout <= 120):
            raise ValueError(f"timeout must be in (0, 120] seconds, got {self.timeout!r}")
        if not 1 <= int(self.smtp_port) <= 65535:
            raise ValueError(f"smtp_port must be 1-65535, got {self.smtp_port!r}")

    def configured(self, channel: str) -> bool:
        """True when ``channel`` has what it needs to deliver (``inapp`` always has)."""
        if channel == "inapp":
            return True
        if channel == "telegram":
            return bool(self.telegram_token and self.telegram_chat_ids and self.telegram_api_url)
        if channel == "discord":
            return bool(self.discord_webhook_url)
        if channel == "email":
            return bool(self.smtp_host and self.smtp_from and self.smtp_to)
        if channel == "webhook":
            return bool(self.webhook_url)
        raise ValueError(f"unknown channel {channel!r} (use {', '.join(CHANNELS)})")

    def targets(self, channel: str) -> tuple[str, ...]:
        """The delivery targets of ``channel``: each Telegram chat id; ``("",)`` otherwise."""
        if channel == "telegram":
            return self.telegram_chat_ids
        return ("",)

    def secrets(self) -> list[str]:
        """Every secret value set (longest first), for :meth:`redact`."""
        vals = [self.telegram_token, self.discord_webhook_url, self.smtp_password, self.webhook_url]
        return sorted({v for v in vals if v and len(v) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***`` (webhook URLs keep their host)."""
        out = str(text)
        for secret in self.secrets():
            if secret in out:
                out = out.replace(secret, _redacted_value(secret))
        return out

    def describe(self, channel: str) -> str:
        """Where ``channel`` delivers, redacted (for the page, the CLI and logs)."""
        if not self.configured(channel):
            return "não configurado"
        if channel == "inapp":
            return "sino e histórico do app"
        if channel == "telegram":
            chats = ", ".join(self.telegram_chat_ids)
            return f"{_redacted_value(self.telegram_api_url)} · chat {chats} · token ***"
        if channel == "discord":
            return _redacted_value(self.discord_webhook_url)
        if channel == "email":
            login = f" · usuário {self.smtp_user} · senha ***" if self.smtp_user else ""
            return (
                f"{self.smtp_host}:{self.smtp_port}{login} · de {self.smtp_from} "
                f"para {', '.join(self.smtp_to)}"
            )
        return _redacted_value(self.webhook_url)


def _redacted_value(secret: str) -> str:
    """A URL keeps its scheme and host (``https://discord.com/***``); anything else ``***``."""
    if "://" in secret:
        scheme, _, rest = secret.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host}/***" if "/" in rest.strip("/") or "@" in rest else secret
    return "***"


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery attempt.

    Attributes
    ----------
    ok : bool
        The service accepted the message.
    channel : str
        Channel name.
    retryable : bool
        A failure that may pass on a later attempt (network, timeout, 429, 5xx).
    error : str
        Redacted reason of a failure ("" when ``ok``).
    retry_after : float or None
        Seconds the service asked us to wait (Telegram ``parameters.retry_after``, Discord
        ``retry_after``, HTTP ``Retry-After``).
    status_code : int or None
        HTTP status (SMTP reply code for e-mail) when one was received.
    detail : str
        What the service returned on success (e.g. the Telegram ``message_id``).
    """

    ok: bool
    channel: str
    retryable: bool = False
    error: str = ""
    retry_after: float | None = None
    status_code: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class HttpResponse:
    """A minimal HTTP answer: status, headers (lower-case names) and body bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body decoded as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, ValueError):
            return None


def post_json(url: str, payload: Any, timeout: float, headers: dict | None = None) -> HttpResponse:
    """POST ``payload`` as UTF-8 JSON and return the answer, whatever its status.

    The body is ``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`` encoded
    as UTF-8: exactly these bytes go on the wire (tests compare them byte for byte).

    Raises
    ------
    OSError
        Network errors and timeouts (``TimeoutError``/``socket.timeout`` are subclasses).
    """
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    hdrs = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Pregao-alerts/1"}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=hdrs, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - URL from settings
            return HttpResponse(
                resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
            )
    except urllib.error.HTTPError as exc:
        body = b""
        try:
            body = exc.read()
        except OSError:
            pass
        return HttpResponse(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, OSError):
            raise reason from exc
        raise OSError(str(reason)) from exc


def network_failure(channel: str, exc: BaseException, config: ChannelConfig) -> DeliveryResult:
    """The retryable result of a network error or timeout (message redacted, in pt-BR)."""
    if isinstance(exc, TimeoutError | socket.timeout):
        msg = f"tempo esgotado após {textfmt.num(config.timeout, 0)} s"
    else:
        msg = f"falha de rede: {exc.__class__.__name__}: {exc}"
    return DeliveryResult(False, channel, retryable=True, error=config.redact(msg)[:500])


def http_failure(
    channel: str, resp: HttpResponse, config: ChannelConfig, description: str = ""
) -> DeliveryResult:
    """The result of a non-2xx answer: 429, 5xx and 408 are retryable, other 4xx are not."""
    retry_after = None
    raw = resp.headers.get("retry-after")
    if raw:
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = None
    retryable = resp.status in (408, 429) or resp.status >= 500
    text = description or resp.body[:300].decode("utf-8", "replace").strip()
    msg = f"HTTP {resp.status}" + (f": {text}" if text else "")
    return DeliveryResult(
        False,
        channel,
        retryable=retryable,
        error=config.redact(msg)[:500],
        retry_after=retry_after,
        status_code=resp.status,
    )


# -- the message --------------------------------------------------------------------------
def _get(firing: Any, name: str, default: Any = None) -> Any:
    if isinstance(firing, dict):
        return firing.get(name, default)
    return getattr(firing, name, default)


def _iso(x: Any) -> str | None:
    if x is None:
        return None
    if isinstance(x, str):
        return x
    if hasattr(x, "isoformat"):
        return x.isoformat()
    return str(x)


def firing_dict(firing: Any) -> dict:
    """A firing as plain JSON-ready data (times in ISO 8601, naive São Paulo time).

    Accepts the :class:`core.alerts` ``Firing`` dataclass or a dict with the same keys.
    """
    values = _get(firing, "values") or {}
    clean = {}
    for k, v in dict(values).items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        elif hasattr(v, "item"):  # numpy scalar
            v = v.item()
        elif isinstance(v, dt.date | dt.datetime):
            v = v.isoformat()
        clean[str(k)] = v
    rid = _get(firing, "rule_id")
    fid = _get(firing, "id")
    return {
        "id": int(fid) if fid is not None else None,
        "rule_id": int(rid) if rid is not None else None,
        "rule_name": str(_get(firing, "rule_name") or ""),
        "kind": str(_get(firing, "kind") or ""),
        "ticker": _get(firing, "ticker") or None,
        "bar_time": _iso(_get(firing, "bar_time")),
        "fired_at": _iso(_get(firing, "fired_at")),
        "values": clean,
        "message": str(_get(firing, "message") or ""),
        "severity": severity_of(firing),
    }


def severity_of(firing: Any) -> str:
    """``info``, ``warning`` or ``critical`` (anything else counts as ``info``)."""
    sev = str(_get(firing, "severity") or "info").lower()
    return sev if sev in _SEVERITIES else "info"


def title_of(firing: Any) -> str:
    """``"<rule name> · <ticker>"`` (the ticker only when the firing has one)."""
    name = str(_get(firing, "rule_name") or "Alerta")
    ticker = _get(firing, "ticker")
    return f"{name} · {ticker}" if ticker else name


def format_values(values: dict | None) -> list[tuple[str, str]]:
    """``[(name, pt-BR text)]`` of a firing's values: numbers as ``1.234,56``."""
    out = []
    for k, v in (values or {}).items():
        if isinstance(v, bool):
            text = "sim" if v else "não"
        elif isinstance(v, int | float) or hasattr(v, "item"):
            fv = float(v)
            text = textfmt.integer(fv) if fv.is_integer() and abs(fv) >= 1000 else textfmt.num(fv)
        elif v is None:
            text = textfmt.MISSING
        else:
            text = str(v)
        out.append((str(k), text))
    return out


def when_text(firing: Any) -> str:
    """The bar time in pt-BR (``dd/mm/aaaa`` for a daily bar, with ``HH:MM`` intraday)."""
    x = _get(firing, "bar_time") or _get(firing, "fired_at")
    if x is None:
        return ""
    import pandas as pd

    ts = pd.Timestamp(x)
    if ts == ts.normalize():
        return textfmt.date(ts)
    return textfmt.datetime(ts)


def sample_firing(channel: str) -> dict:
    """The synthetic firing that "Enviar teste" sends (``id`` None: it is not stored)."""
    now = dt.datetime.now().replace(microsecond=0)
    return {
        "id": None,
        "rule_id": None,
        "rule_name": "Teste de canal",
        "kind": "test",
        "ticker": None,
        "bar_time": None,
        "fired_at": now,
        "values": {},
        "message": (
            f"Mensagem de teste do Pregão pelo canal {CHANNEL_LABELS.get(channel, channel)}. "
            "Se você a recebeu, o canal está configurado."
        ),
        "severity": "info",
    }
