"""A local server speaking Discord's "Execute Webhook" shapes.

``POST /api/webhooks/<id>/<token>`` with a JSON body: 204 No Content on success (200 with a
message object when ``?wait=true``), 401 ``{"message": "Invalid Webhook Token", "code":
50027}`` for another token, 400 ``{"message": "Invalid Form Body", "code": 50035}`` when an
embed breaks a documented limit (title 256, description 4096, 25 fields, field name 256,
value 1024, colour a 24-bit integer, 10 embeds).
"""

from __future__ import annotations

import json
import urllib.parse

from tests.fakes.http import FakeHttpServer, Recorded, json_answer


def embed_error(body: dict) -> str | None:
    embeds = body.get("embeds") or []
    if not body.get("content") and not embeds:
        return "Cannot send an empty message"
    if len(embeds) > 10:
        return "embeds: too many"
    for e in embeds:
        if len(e.get("title", "")) > 256 or len(e.get("description", "")) > 4096:
            return "embed title/description too long"
        c = e.get("color")
        if c is not None and not (isinstance(c, int) and 0 <= c <= 0xFFFFFF):
            return "embed color must be a 24-bit integer"
        fields = e.get("fields") or []
        if len(fields) > 25:
            return "embed: more than 25 fields"
        for f in fields:
            if not f.get("name") or not f.get("value"):
                return "field name and value are required"
            if len(f["name"]) > 256 or len(f["value"]) > 1024:
                return "field too long"
    return None


class FakeDiscord(FakeHttpServer):
    def __init__(self, webhook_id: str = "111222333", token: str = "wh-SECRET-token") -> None:
        super().__init__()
        self.webhook_id, self.token = webhook_id, token
        self.accepted: list[dict] = []

    @property
    def webhook_url(self) -> str:
        return f"{self.base}/api/webhooks/{self.webhook_id}/{self.token}"

    def handle(self, rec: Recorded):
        url = urllib.parse.urlparse(rec.path)
        if rec.method != "POST" or url.path != f"/api/webhooks/{self.webhook_id}/{self.token}":
            return json_answer(401, {"message": "Invalid Webhook Token", "code": 50027})
        try:
            body = json.loads(rec.body.decode("utf-8"))
        except ValueError:
            return json_answer(400, {"message": "Cannot send an empty message", "code": 50006})
        err = embed_error(body)
        if err:
            return json_answer(400, {"message": "Invalid Form Body", "code": 50035, "errors": err})
        with self.lock:
            self.accepted.append(body)
        if "wait=true" in (url.query or ""):
            return json_answer(200, {"id": str(len(self.accepted)), "embeds": body.get("embeds")})
        return 204, {}, b""


class FakeWebhook(FakeHttpServer):
    """A generic receiver: 200 ``{"ok": true}`` to any POST on ``/hook``."""

    @property
    def url(self) -> str:
        return f"{self.base}/hook?key=s3cr3t-key"

    def handle(self, rec: Recorded):
        return json_answer(200, {"ok": True})
