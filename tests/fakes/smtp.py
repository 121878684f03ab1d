"""A local SMTP server (aiosmtpd) that keeps every message it accepts.

``FakeSMTP(auth=("user", "pass"))`` requires AUTH LOGIN/PLAIN with that pair (over plain
text on loopback: ``auth_require_tls=False``); ``fail_next(n, code)`` answers the next ``n``
``DATA`` commands with ``code`` (e.g. 451 transient, 550 permanent).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _Handler:
    def __init__(self, outer: FakeSMTP) -> None:
        self.outer = outer

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self.outer.lock:
            if self.outer._fail:
                return self.outer._fail.pop(0)
            self.outer.messages.append(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "raw": envelope.original_content or envelope.content,
                    "message": email.message_from_bytes(
                        envelope.original_content or envelope.content, policy=email.policy.default
                    ),
                    "login": getattr(session, "login_data", None),
                }
            )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeSMTP:
    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self._fail: list[str] = []
        self.port = _free_port()
        kw = {}
        if auth is not None:
            user, pw = auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (
                    isinstance(auth_data, LoginPassword)
                    and auth_data.login.decode() == user
                    and auth_data.password.decode() == pw
                )
                return AuthResult(success=ok, handled=False)

            kw = dict(
                authenticator=authenticator,
                auth_required=True,
                auth_require_tls=False,
                auth_exclude_mechanism=["LOGIN"],
            )
        with warnings.catch_warnings():  # AUTH without TLS: on loopback, on purpose
            warnings.simplefilter("ignore")
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kw)

    def fail_next(self, n: int, reply: str = "451 Try again later") -> None:
        with self.lock:
            self._fail.extend([reply] * n)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()
