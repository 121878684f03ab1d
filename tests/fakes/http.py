"""A scriptable local HTTP server that records every request byte for byte."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    """One request as received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    time: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class FakeHttpServer:
    """Base: subclasses implement ``handle(rec) -> (status, headers, body_bytes)``.

    ``fail_next(n, status, body)`` answers the next ``n`` requests with ``status``;
    ``hang_next(n, seconds)`` makes the next ``n`` requests wait ``seconds`` and then answer
    504 without accepting anything (a client with a shorter timeout sees a timeout).
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self._script: list[tuple] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _do(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec = Recorded(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                status, headers, out = outer._answer(rec)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    if out:
                        self.wfile.write(out)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _do  # noqa: N815

            def log_message(self, *_a) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def start(self):
        return self.__enter__()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, n: int, status: int = 500, body: bytes = b"", headers=None) -> None:
        with self.lock:
            self._script.extend([("status", status, body, headers or {})] * n)

    def hang_next(self, n: int, seconds: float) -> None:
        with self.lock:
            self._script.extend([("hang", seconds)] * n)

    def _answer(self, rec: Recorded):
        with self.lock:
            self.requests.append(rec)
            step = self._script.pop(0) if self._script else None
        if step is not None and step[0] == "status":
            hdrs = {"Content-Type": "application/json"} if step[2] else {}
            hdrs.update(step[3])
            return step[1], hdrs, step[2]
        if step is not None and step[0] == "hang":
            time.sleep(step[1])  # a hung upstream: the message is never accepted
            return 504, {}, b""
        return self.handle(rec)

    def handle(self, rec: Recorded):  # pragma: no cover - subclasses
        return 200, {}, b""


def json_answer(status: int, obj) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()
