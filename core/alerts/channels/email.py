"""E-mail channel: one plain-text UTF-8 message over SMTP (:mod:`smtplib`).

Connection: port 465 is implicit TLS (``SMTP_SSL``); on any other port the client says EHLO
and upgrades with STARTTLS whenever the server offers it (RFC 3207). With
``PREGAO_SMTP_USER`` set it logs in (``AUTH``) — but only over TLS or to a loopback
server: a password is never sent in clear over the network. Certificates are verified with
the system's trust store (:func:`ssl.create_default_context`).

Message: ``Subject: [Pregão] <rule> · <ticker>``, ``From`` = ``PREGAO_SMTP_FROM``, ``To`` =
``PREGAO_SMTP_TO`` (comma separated), ``Date``, ``Message-ID``, text body with the message,
the values in pt-BR and the bar time.

Failures: connection errors, timeouts and 4xx replies (RFC 5321 transient) are retryable;
5xx replies (bad recipient, authentication refused) are not.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from core.alerts.channels.base import (
    ChannelConfig,
    DeliveryResult,
    format_values,
    network_failure,
    title_of,
    when_text,
)
from core.alerts.channels.base import _get as get

__all__ = ["send", "build_message"]

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def build_message(config: ChannelConfig, firing: Any) -> EmailMessage:
    """The :class:`email.message.EmailMessage` for ``firing``."""
    msg = EmailMessage()
    msg["Subject"] = f"[Pregão] {title_of(firing)}"
    msg["From"] = config.smtp_from
    msg["To"] = ", ".join(config.smtp_to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="pregao.local")
    lines = [str(get(firing, "message") or title_of(firing))]
    vals = format_values(get(firing, "values"))
    if vals:
        lines.append("")
        lines.extend(f"  {k}: {v}" for k, v in vals)
    when = when_text(firing)
    if when:
        lines.extend(["", f"Barra: {when}"])
    lines.extend(["", "-- ", "Pregão · alertas"])
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    return msg


def send(config: ChannelConfig, firing: Any, *, target: str | None = None) -> DeliveryResult:
    """Send ``firing`` by e-mail (one SMTP session; never raises).

    Returns
    -------
    DeliveryResult
        ``status_code`` is the SMTP reply code of a refusal.
    """
    if not config.configured("email"):
        return DeliveryResult(False, "email", error="E-mail não configurado (servidor, de, para)")
    msg = build_message(config, firing)
    ctx = ssl.create_default_context()
    try:
        if config.smtp_port == 465:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.smtp_host, config.smtp_port, timeout=config.timeout, context=ctx
            )
        else:
            client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
        with client:
            client.ehlo()
            tls = config.smtp_port == 465
            if not tls and client.has_extn("starttls"):
                client.starttls(context=ctx)
                client.ehlo()
                tls = True
            if config.smtp_user:
                if not tls and config.smtp_host.lower() not in _LOOPBACK:
                    return DeliveryResult(
                        False,
                        "email",
                        error=(
                            "o servidor SMTP não oferece STARTTLS: a senha não é enviada sem "
                            "criptografia (use a porta 465 ou um servidor com STARTTLS)"
                        ),
                    )
                client.login(config.smtp_user, config.smtp_password)
            refused = client.send_message(msg)
    except smtplib.SMTPResponseException as exc:
        code = int(exc.smtp_code)
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return DeliveryResult(
            False,
            "email",
            retryable=400 <= code < 500,
            error=config.redact(f"SMTP {code}: {text}")[:500],
            status_code=code,
        )
    except smtplib.SMTPRecipientsRefused as exc:
        return DeliveryResult(
            False, "email", error=config.redact(f"destinatários recusados: {exc.recipients}")[:500]
        )
    except (smtplib.SMTPException, ssl.SSLError) as exc:
        return DeliveryResult(
            False, "email", retryable=True, error=config.redact(f"SMTP: {exc}")[:500]
        )
    except OSError as exc:
        return network_failure("email", exc, config)
    if refused:
        return DeliveryResult(True, "email", detail=f"recusados: {', '.join(sorted(refused))}")
    return DeliveryResult(True, "email", status_code=250)
