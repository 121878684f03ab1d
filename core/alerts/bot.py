"""The Telegram bot: ``/status``, ``/sinais``, ``/posicoes``, ``/resumo``, ``/pausar``, ``/retomar``.

It long-polls the Bot API's ``getUpdates`` (``POST {api_url}/bot{token}/getUpdates`` with
``offset``, ``timeout`` and ``allowed_updates``; https://core.telegram.org/bots/api#getupdates)
and answers with ``sendMessage`` in HTML mode (:mod:`core.alerts.channels.telegram`).

Only the chats of ``PREGAO_TELEGRAM_CHAT_ID`` are answered (freqtrade's ``authorized_only``
idea: one check, before any command runs); any other chat is ignored and logged, never
answered, so a stranger learns nothing. Commands are read-only except ``/pausar [horas]``
and ``/retomar``, which pause and resume the external alert channels
(:func:`core.alerts.dispatch.pause_channel`): firings still reach the app's bell and history.

Each command is a one-liner over the same ``core`` functions the page and the CLI use
(:func:`answer` is pure: text in, HTML out). Updates older than the bot's start are skipped,
so a restart does not replay an old ``/pausar``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from core import textfmt
from core.alerts.channels.base import ChannelConfig
from core.alerts.channels.telegram import escape_html, send_text

__all__ = ["TelegramBot", "answer", "COMMANDS", "authorized"]

log = logging.getLogger(__name__)

#: Command -> pt-BR help line.
COMMANDS: dict[str, str] = {
    "status": "situação do app: dados, alertas ativos, entregas",
    "sinais": "últimos disparos de alertas",
    "posicoes": "posições das contas simuladas",
    "resumo": "resumo do dia das contas simuladas",
    "pausar": "pausa as notificações externas (/pausar 2 = por 2 horas)",
    "retomar": "retoma as notificações",
    "ajuda": "esta lista",
}
_ALIASES = {"start": "ajuda", "help": "ajuda", "signals": "sinais", "positions": "posicoes",
            "posições": "posicoes", "stop": "pausar"}  # fmt: skip


def authorized(config: ChannelConfig, chat_id) -> bool:
    """True when ``chat_id`` is one of the configured chats."""
    return str(chat_id) in {str(c) for c in config.telegram_chat_ids}


def _help() -> str:
    lines = ["<b>Pregão</b> · comandos"]
    lines += [f"/{c} — {escape_html(h)}" for c, h in COMMANDS.items()]
    return "\n".join(lines)


def _status(store, config: ChannelConfig) -> str:
    from core.alerts import dispatch
    from core.alerts.rules import list_rules

    rules = list_rules(store)
    active = sum(r.enabled for r in rules)
    last = store.last_date()
    lines = [
        "<b>Status do Pregão</b>",
        f"Dados até: {textfmt.date(last) if last is not None else 'banco vazio'}",
        f"Alertas ativos: {active} de {len(rules)}",
    ]
    for s in dispatch.channel_statuses(store, config):
        if s.channel == "inapp" or not s.configured:
            continue
        state = "pausado" if s.paused else "ativo"
        extra = f", {s.waiting} na fila" if s.waiting else ""
        extra += f", {s.failed} falhas" if s.failed else ""
        lines.append(f"{escape_html(s.label)}: {state}{extra}")
    return "\n".join(lines)


def _signals(store, limit: int = 10) -> str:
    from core.alerts.engine import list_firings

    firings = list_firings(store, limit=limit)
    if not firings:
        return "Nenhum disparo de alerta ainda."
    lines = [f"<b>Últimos {len(firings)} disparos</b>"]
    for f in firings:
        when = (
            textfmt.date(f.bar_time)
            if f.bar_time == f.bar_time.normalize()
            else textfmt.datetime(f.bar_time)
        )
        who = f" · {escape_html(f.ticker)}" if f.ticker else ""
        lines.append(f"• {when}{who} — <b>{escape_html(f.rule_name)}</b>: {escape_html(f.message)}")
    return "\n".join(lines)


def _accounts(store):
    try:
        from core.trading.accounts import list_accounts
        from core.trading.broker import PaperBroker
    except ImportError:
        return None, None
    return list_accounts(store), PaperBroker


def _positions(store) -> str:
    accounts, broker_cls = _accounts(store)
    if accounts is None:
        return "Operações simuladas indisponíveis nesta versão."
    if not accounts:
        return "Nenhuma conta simulada. Crie uma com `python -m dashboard paper create`."
    lines = ["<b>Posições</b>"]
    for acc in accounts:
        pos = broker_cls(store, acc.name).positions()
        lines.append(f"<b>{escape_html(acc.name)}</b>" + ("" if pos else ": sem posições"))
        for p in pos:
            lines.append(
                f"• {escape_html(p.ticker)} {textfmt.integer(p.qty, sign=True)} a "
                f"{textfmt.brl(p.avg_price)} · último {textfmt.brl(p.last)} · "
                f"resultado {textfmt.brl(p.unrealized_pnl, sign=True)}"
            )
    return "\n".join(lines)


def _summary(store) -> str:
    accounts, broker_cls = _accounts(store)
    if accounts is None:
        return "Operações simuladas indisponíveis nesta versão."
    if not accounts:
        return "Nenhuma conta simulada."
    lines = ["<b>Resumo do dia</b>"]
    for acc in accounts:
        s = broker_cls(store, acc.name).account()
        ret = s.day_pnl / (s.equity - s.day_pnl) if s.equity - s.day_pnl else 0.0
        lines.append(
            f"<b>{escape_html(acc.name)}</b>: patrimônio {textfmt.brl(s.equity)} · dia "
            f"{textfmt.brl(s.day_pnl, sign=True)} ({textfmt.pct(ret, sign=True)}) · drawdown "
            f"{textfmt.pct(s.drawdown_pct)}" + (" · <b>bloqueada</b>" if s.blocked else "")
        )
    return "\n".join(lines)


def _pause(store, args: list[str], who: str) -> str:
    from core.alerts.dispatch import pause_channel

    until = None
    if args:
        try:
            hours = float(args[0].replace(",", "."))
            if not 0 < hours <= 24 * 30:
                raise ValueError
        except ValueError:
            return "Use /pausar ou /pausar HORAS (ex.: /pausar 2)."
        until = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=hours)
    pause_channel(store, "all", until=until, by=who)
    if until is None:
        return "Notificações externas pausadas até /retomar. O app continua registrando os alertas."
    return (
        f"Notificações externas pausadas por {textfmt.num(float(args[0].replace(',', '.')), 1)} h. "
        "O app continua registrando os alertas."
    )


def answer(store, config: ChannelConfig, text: str, chat_id, who: str = "") -> str | None:
    """The HTML reply to a message ``text`` from ``chat_id`` (None = do not answer).

    Unauthorised chats and non-commands get None. Errors inside a command become a short
    pt-BR message (details in the log).
    """
    if not authorized(config, chat_id):
        log.warning("telegram: ignored a message from unauthorised chat %s", chat_id)
        return None
    text = (text or "").strip()
    if not text.startswith("/"):
        return None
    parts = text[1:].split()
    cmd = parts[0].split("@", 1)[0].lower() if parts else ""
    cmd = _ALIASES.get(cmd, cmd)
    args = parts[1:]
    try:
        if cmd == "status":
            return _status(store, config)
        if cmd == "sinais":
            return _signals(store)
        if cmd == "posicoes":
            return _positions(store)
        if cmd == "resumo":
            return _summary(store)
        if cmd == "pausar":
            return _pause(store, args, who or f"telegram:{chat_id}")
        if cmd == "retomar":
            from core.alerts.dispatch import resume_channel

            resume_channel(store, "all")
            return "Notificações retomadas."
        if cmd == "ajuda":
            return _help()
    except Exception:  # noqa: BLE001 - the bot must keep running
        log.exception("telegram command /%s failed", cmd)
        return "Não foi possível responder agora (erro interno registrado no log do app)."
    return "Comando desconhecido.\n" + _help()


class TelegramBot:
    """Long-polling ``getUpdates`` loop in a daemon thread.

    Parameters
    ----------
    store : core.data.store.Store
    config : ChannelConfig
        Token, API URL and the authorised chat ids.
    poll_timeout : int
        Seconds Telegram holds a ``getUpdates`` call open (default 25).
    """

    def __init__(self, store, config: ChannelConfig, *, poll_timeout: int = 25,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        if not config.telegram_token:
            raise ValueError("TelegramBot needs a token")
        self.store = store
        self.config = config
        self.poll_timeout = int(poll_timeout)
        self.offset = 0
        self.started_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.answered = 0

    def _call(self, method: str, payload: dict, timeout: float) -> dict:
        url = f"{self.config.telegram_api_url.rstrip('/')}/bot{self.config.telegram_token}/{method}"
        data = json.dumps(payload, separators=(",", ":")).encode()
        req = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                return json.loads(exc.read().decode("utf-8"))
            except (ValueError, OSError):
                return {"ok": False, "error_code": exc.code, "description": f"HTTP {exc.code}"}

    def poll_once(self) -> int:
        """One ``getUpdates`` call and the answers; returns the number of updates handled."""
        res = self._call(
            "getUpdates",
            {"offset": self.offset, "timeout": self.poll_timeout, "allowed_updates": ["message"]},
            self.poll_timeout + self.config.timeout,
        )
        if not res.get("ok"):
            raise RuntimeError(self.config.redact(str(res.get("description", res))))
        updates = res.get("result") or []
        for upd in updates:
            self.offset = max(self.offset, int(upd["update_id"]) + 1)
            msg = upd.get("message") or {}
            chat = (msg.get("chat") or {}).get("id")
            if chat is None or msg.get("date", 0) < self.started_at - 60:
                continue  # from before this bot started: never replay old commands
            who = (msg.get("from") or {}).get("username") or (msg.get("from") or {}).get(
                "first_name", ""
            )
            reply = answer(self.store, self.config, msg.get("text", ""), chat, f"telegram:{who}")
            if reply:
                r = send_text(self.config, str(chat), reply)
                if not r.ok:
                    log.warning("telegram reply failed: %s", r.error)
                self.answered += 1
        return len(updates)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self.poll_once()
                backoff = 1.0
            except Exception as exc:  # noqa: BLE001 - network down, 409 conflict ...
                log.warning(
                    "telegram bot: %s (new try in %.0f s)", self.config.redact(str(exc)), backoff
                )
                self._stop.wait(backoff)
                backoff = min(60.0, backoff * 2)

    def start(self) -> TelegramBot:
        """Start the polling thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="telegram-bot", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the current ``getUpdates`` call returns (at most ``poll_timeout``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
