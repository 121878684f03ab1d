"""A local server speaking the Telegram Bot API's shapes for ``sendMessage`` and ``getUpdates``.

Shapes follow https://core.telegram.org/bots/api: every answer is ``{"ok": true, "result":
...}`` or ``{"ok": false, "error_code": N, "description": "..."}`` (429 adds ``"parameters":
{"retry_after": s}``). Like the real service it refuses a wrong token (401 Unauthorized), an
unknown chat (400 "Bad Request: chat not found") and, in ``parse_mode`` HTML, text whose
``<``/``&`` are not valid tags or entities (400 "Bad Request: can't parse entities").
``getUpdates`` honours ``offset`` (confirms earlier updates) and long-polls up to ``timeout``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse

from tests.fakes.http import FakeHttpServer, Recorded, json_answer

_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_TAG = re.compile(r"<(/?)([a-z-]+)(\s[^<>]*)?>")


def html_error(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML mode (None when it parses)."""
    i, stack = 0, []
    while i < len(text):
        ch = text[i]
        if ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                return f"Can't find end of the entity starting at byte offset {i}"
            i = m.end()
            continue
        if ch == "<":
            m = _TAG.match(text, i)
            if not m or m.group(2) not in _TAGS:
                return f"Unsupported start tag at byte offset {i}"
            if m.group(1):
                if not stack or stack.pop() != m.group(2):
                    return f"Unmatched end tag at byte offset {i}"
            else:
                stack.append(m.group(2))
            i = m.end()
            continue
        if ch == ">":
            return f"Unexpected end tag at byte offset {i}"
        i += 1
    if stack:
        return f"Can't find end tag corresponding to start tag {stack[-1]}"
    return None


class FakeTelegram(FakeHttpServer):
    """``FakeTelegram(token, chats)``; ``.api_url`` is the base URL to configure."""

    def __init__(self, token: str = "123456:TEST-token_abc", chats=("1001",)) -> None:
        super().__init__()
        self.token = token
        self.chats = {str(c) for c in chats}
        self.sent: list[dict] = []  # accepted sendMessage bodies (parsed)
        self._updates: list[dict] = []
        self._next_update = 1
        self._next_message = 1
        self._cond = threading.Condition()

    @property
    def api_url(self) -> str:
        return self.base

    def sends(self) -> list[Recorded]:
        """Raw requests to sendMessage (accepted or not)."""
        return [r for r in self.requests if r.path.endswith("/sendMessage")]

    def push_message(self, chat_id, text: str, username: str = "trader") -> int:
        """Queue an incoming user message (as ``getUpdates`` would deliver it)."""
        with self._cond:
            uid = self._next_update
            self._next_update += 1
            self._updates.append(
                {
                    "update_id": uid,
                    "message": {
                        "message_id": 10_000 + uid,
                        "from": {"id": int(chat_id), "is_bot": False, "first_name": username},
                        "chat": {"id": int(chat_id), "type": "private"},
                        "date": int(time.time()),
                        "text": text,
                        "entities": (
                            [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
                            if text.startswith("/")
                            else []
                        ),
                    },
                }
            )
            self._cond.notify_all()
            return uid

    def handle(self, rec: Recorded):
        path = urllib.parse.urlparse(rec.path).path
        m = re.fullmatch(r"/bot([^/]+)/(\w+)", path)
        if not m:
            return json_answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if m.group(1) != self.token:
            return json_answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = m.group(2)
        params = {}
        if rec.body:
            ctype = rec.headers.get("content-type", "")
            if ctype.startswith("application/json"):
                params = json.loads(rec.body.decode("utf-8"))
            else:
                params = dict(urllib.parse.parse_qsl(rec.body.decode()))
        params.update(dict(urllib.parse.parse_qsl(urllib.parse.urlparse(rec.path).query)))
        if method == "sendMessage":
            return self._send_message(params)
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "getMe":
            return json_answer(
                200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "pregao_bot"}}
            )
        return json_answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def _send_message(self, p: dict):
        chat = str(p.get("chat_id", ""))
        text = p.get("text")
        if not text:
            return json_answer(
                400,
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                },
            )
        if chat not in self.chats:
            return json_answer(
                400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            )
        if len(text) > 4096:
            return json_answer(
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
            )
        if p.get("parse_mode") == "HTML":
            err = html_error(text)
            if err:
                return json_answer(
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": f"Bad Request: can't parse entities: {err}",
                    },
                )
        with self.lock:
            mid = self._next_message
            self._next_message += 1
            self.sent.append(p)
        return json_answer(
            200,
            {
                "ok": True,
                "result": {
                    "message_id": mid,
                    "from": {"id": 1, "is_bot": True, "first_name": "Pregão"},
                    "chat": {"id": int(chat), "type": "private"},
                    "date": int(time.time()),
                    "text": text,
                },
            },
        )

    def _get_updates(self, p: dict):
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 30)
        with self._cond:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            result = list(self._updates)
        return json_answer(200, {"ok": True, "result": result})
