"""Pregão's settings: defaults, then an optional ``.env`` file, then ``PREGAO_*`` variables.

Each layer overrides the previous one. Values are validated once, at start, and every
problem is reported in one readable message (:class:`SettingsError`). Secrets (passwords in
URLs, ``SECRET_KEY``, tokens) are redacted by :meth:`Settings.redacted`.

Variables
---------
``PREGAO_DATA_DIR``      where the SQLite file, cache and artifacts live (default ``~/.pregao``)
``PREGAO_DATABASE_URL``  SQLAlchemy URL (default ``sqlite:///<DATA_DIR>/pregao.db``)
``PREGAO_HOST``          bind address (default ``127.0.0.1``)
``PREGAO_PORT``          port (default ``8050``)
``PREGAO_MODE``          ``local`` (one user, no login, diskcache jobs) or ``team``
``PREGAO_CACHE_DIR``     diskcache folder for background jobs (default ``<DATA_DIR>/cache``)
``PREGAO_REDIS_URL``     Redis URL for Celery background jobs (team mode)
``PREGAO_SECRET_KEY``    Flask secret key (team mode requires one)
``PREGAO_RISK_FREE_RATE`` annual risk-free rate as a fraction; empty = CDI of the window
``PREGAO_SCHEDULER``     ``1``/``0``: run the scheduled jobs (daily update ...) inside the app in
                        local mode (default on in local mode, always off in team mode)
``PREGAO_THEME``         ``light`` or ``dark`` (default theme of the UI)
``PREGAO_UPDATE_TIME``   daily update time after the B3 close, ``HH:MM`` America/Sao_Paulo
``PREGAO_DEBUG``         ``1`` to run Dash in debug mode
``PREGAO_ML_GATES``      model approval gates, e.g. ``min_accuracy=0.52,min_roc_auc=0.52``
                         (see ``core.ml.registry.ApprovalGates``; empty = defaults)
``PREGAO_ML_RETRAIN``    weekly retrain: ``<day> HH:MM`` America/Sao_Paulo (default
                         ``sun 20:00``; ``off`` disables it)
``PREGAO_IMPORT_DIRS``   folders (separated by ``:`` or ``;``) from which the Data page may
                         import server paths; team mode: none unless set (admins only); local
                         mode: empty = any path outside the data directory
``PREGAO_MAX_UPLOAD_MB`` largest accepted upload / import file in MB (default 200)
``PREGAO_COOKIE_SECURE`` ``1``/``0``: send session cookies only over HTTPS (default ``1`` in
                         team mode; ``0`` only for a loopback trial without TLS)
``PREGAO_PROXY_COUNT``   number of reverse proxies in front of the app whose
                         ``X-Forwarded-*`` headers are trusted (default 0)
``PREGAO_WARM``          ``1``/``0``: at start, fill the read cache with what the pages show
                         first (Mercado's table, ...) and load the backtest kernels, in a
                         background thread (default ``1``; ``0`` for a test of a cold start)
``PREGAO_ALLOW_SQLITE``  ``1`` lets team mode run on SQLite (trials only)
``PREGAO_SERVER_TIMING`` ``1`` adds a ``Server-Timing`` header (``app`` = wall time, ``cpu`` =
                         the request thread's CPU time, in ms) to every response: the load
                         benchmark tells queueing from work with it (default ``0``)
``PREGAO_BACKUP_DIR``    where ``backup`` writes (default ``<DATA_DIR>/backups``)
``PREGAO_BACKUP_TIME``   daily scheduled backup ``HH:MM`` America/Sao_Paulo, or ``off``
                         (default ``03:00``)
``PREGAO_BACKUP_KEEP_DAYS`` days of scheduled backups kept (default 30)

Alert channels (``core.alerts.channels``; every secret is redacted by :meth:`Settings.redacted`)
``PREGAO_TELEGRAM_TOKEN``   bot token from @BotFather (secret)
``PREGAO_TELEGRAM_CHAT_ID`` chat id(s) that receive alerts and may command the bot, comma
                            separated (groups are negative numbers)
``PREGAO_TELEGRAM_API_URL`` Bot API base URL (default ``https://api.telegram.org``)
``PREGAO_DISCORD_WEBHOOK_URL`` Discord webhook URL (secret: it carries a token)
``PREGAO_SMTP_HOST`` / ``PREGAO_SMTP_PORT`` SMTP server (port default 587; 465 = implicit TLS,
                            other ports use STARTTLS when offered)
``PREGAO_SMTP_USER`` / ``PREGAO_SMTP_PASSWORD`` SMTP login (optional; the password is secret)
``PREGAO_SMTP_FROM`` / ``PREGAO_SMTP_TO`` sender and recipients (comma separated)
``PREGAO_WEBHOOK_URL``      generic JSON webhook (secret: URLs often carry a key)
``PREGAO_ALERTS_WORKER``    ``1``/``0``: run the alert delivery worker in this app process
                            (default on, except under pytest)
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from dotenv import dotenv_values

__all__ = ["Settings", "SettingsError", "load_settings", "PREFIX"]

PREFIX = "PREGAO_"


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists each problem."""


@dataclass(frozen=True)
class Settings:
    """Validated settings (see the module docstring for each variable)."""

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8050
    mode: str = "local"
    cache_dir: Path | None = None
    redis_url: str = ""
    secret_key: str = ""
    risk_free_rate: float | None = None
    theme: str = "light"
    scheduler: bool = True
    update_time: str = "18:30"
    debug: bool = False
    ml_gates: str = ""
    ml_retrain: str = "sun 20:00"
    import_dirs: tuple[Path, ...] = ()
    max_upload_mb: int = 200
    cookie_secure: bool = True
    proxy_count: int = 0
    allow_sqlite: bool = False
    server_timing: bool = False
    backup_dir: Path | None = None
    backup_time: str = "03:00"
    backup_keep_days: int = 30
    telegram_token: str = ""
    telegram_chat_id: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    discord_webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_to: str = ""
    webhook_url: str = ""
    alerts_worker: bool | None = None
    warm: bool = True

    @property
    def is_team(self) -> bool:
        """True in team (server, login) mode."""
        return self.mode == "team"

    def redacted(self) -> dict:
        """Settings as a dict safe to print: passwords and secrets replaced by ``***``."""
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        from core.data.store import redact_url  # lazy: `python -m dashboard --help` stays light

        d["database_url"] = redact_url(self.database_url)
        if self.redis_url:
            d["redis_url"] = redact_url(self.redis_url)
        if self.secret_key:
            d["secret_key"] = "***"
        d["import_dirs"] = [str(p) for p in self.import_dirs]
        cfg = self.channel_config()
        for key in ("telegram_token", "smtp_password"):
            if d[key]:
                d[key] = "***"
        for key in ("discord_webhook_url", "webhook_url", "telegram_api_url"):
            if d[key]:
                d[key] = cfg.redact(redact_url(d[key]))
        return d

    def channel_config(self):
        """The :class:`core.alerts.channels.ChannelConfig` of these settings."""
        from core.alerts.channels.base import ChannelConfig

        return ChannelConfig(
            telegram_token=self.telegram_token,
            telegram_chat_ids=_split_list(self.telegram_chat_id),
            telegram_api_url=self.telegram_api_url,
            discord_webhook_url=self.discord_webhook_url,
            smtp_host=self.smtp_host,
            smtp_port=self.smtp_port,
            smtp_user=self.smtp_user,
            smtp_password=self.smtp_password,
            smtp_from=self.smtp_from,
            smtp_to=_split_list(self.smtp_to),
            webhook_url=self.webhook_url,
        )

    def with_overrides(self, **kw) -> Settings:
        """A copy with some fields replaced (used by the CLI's ``--db``)."""
        return replace(self, **kw)


_TRUE = {"1", "true", "yes", "on", "sim"}
_FALSE = {"0", "false", "no", "off", "nao", "não", ""}


def load_settings(
    env: dict[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build :class:`Settings` from defaults, an optional ``.env`` file and the environment.

    Parameters
    ----------
    env : dict, optional
        Variables to read instead of ``os.environ`` (tests).
    env_file : str or Path or None
        The ``.env`` file to read if it exists (``None`` to skip).

    Raises
    ------
    SettingsError
        Listing every invalid value, e.g. ``PREGAO_PORT='abc' is not a port (1-65535)``.
    """
    raw: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        raw.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    raw.update(os.environ if env is None else env)
    # PREGAO_TEST_* variables belong to the test suite (service URLs, CI switches), not the app.
    vals = {
        k[len(PREFIX) :].lower(): v
        for k, v in raw.items()
        if k.startswith(PREFIX) and not k.startswith(PREFIX + "TEST_")
    }
    errors: list[str] = []
    known = {f.name for f in fields(Settings)}
    for k in vals:
        if k not in known:
            errors.append(f"{PREFIX}{k.upper()} is not a known setting")

    data_dir = Path(vals.get("data_dir") or Path.home() / ".pregao").expanduser()
    database_url = vals.get("database_url") or f"sqlite:///{data_dir / 'pregao.db'}"
    cache_dir = (
        Path(vals["cache_dir"]).expanduser() if vals.get("cache_dir") else data_dir / "cache"
    )

    port = 8050
    if "port" in vals:
        try:
            port = int(vals["port"])
            if not 1 <= port <= 65535:
                raise ValueError
        except ValueError:
            errors.append(f"{PREFIX}PORT={vals['port']!r} is not a port (1-65535)")
    mode = (vals.get("mode") or "local").strip().lower()
    if mode not in ("local", "team"):
        errors.append(f"{PREFIX}MODE={vals.get('mode')!r} must be 'local' or 'team'")
    theme = (vals.get("theme") or "light").strip().lower()
    if theme not in ("light", "dark"):
        errors.append(f"{PREFIX}THEME={vals.get('theme')!r} must be 'light' or 'dark'")
    rf = None
    if vals.get("risk_free_rate", "").strip():
        try:
            rf = float(vals["risk_free_rate"].replace(",", "."))
            if not -0.5 < rf < 2:
                raise ValueError
        except ValueError:
            errors.append(
                f"{PREFIX}RISK_FREE_RATE={vals['risk_free_rate']!r} must be an annual rate as a "
                "fraction, e.g. 0.1065"
            )
    update_time = vals.get("update_time") or "18:30"
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", update_time):
        errors.append(f"{PREFIX}UPDATE_TIME={update_time!r} must be HH:MM (24 h)")
    debug_s = (vals.get("debug") or "").strip().lower()
    if debug_s not in _TRUE | _FALSE:
        errors.append(f"{PREFIX}DEBUG={vals.get('debug')!r} must be 0 or 1")
    sched_s = (vals.get("scheduler") or "1").strip().lower()
    if sched_s not in _TRUE | _FALSE:
        errors.append(f"{PREFIX}SCHEDULER={vals.get('scheduler')!r} must be 0 or 1")
    if "://" not in database_url:
        errors.append(
            f"{PREFIX}DATABASE_URL={_redact(database_url)!r} is not a database URL "
            "(e.g. sqlite:///pregao.db or postgresql+psycopg://user:pass@host/db)"
        )
    ml_gates = vals.get("ml_gates", "").strip()
    if ml_gates:
        from core.errors import InputError
        from core.ml.registry import ApprovalGates

        try:
            ApprovalGates.from_string(ml_gates)
        except InputError as exc:
            errors.append(f"{PREFIX}ML_GATES={ml_gates!r}: {exc}")
    ml_retrain = (vals.get("ml_retrain") or "sun 20:00").strip().lower()
    if ml_retrain != "off" and not re.fullmatch(
        r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d", ml_retrain
    ):
        errors.append(f"{PREFIX}ML_RETRAIN={ml_retrain!r} must be '<mon..sun> HH:MM' or 'off'")
    secret = vals.get("secret_key", "")
    redis_url = vals.get("redis_url", "")
    if mode == "team" and not secret:
        errors.append(f"{PREFIX}SECRET_KEY is required in team mode")
    import_dirs = tuple(
        Path(d.strip()).expanduser()
        for d in re.split(r"[:;]", vals.get("import_dirs", ""))
        if d.strip()
    )
    for d in import_dirs:
        if not d.is_absolute():
            errors.append(f"{PREFIX}IMPORT_DIRS: {str(d)!r} must be an absolute folder")
    ints: dict[str, int] = {}
    for key, default, lo, hi in (
        ("max_upload_mb", 200, 1, 10_000),
        ("proxy_count", 0, 0, 5),
        ("backup_keep_days", 30, 1, 3650),
    ):
        ints[key] = default
        if vals.get(key, "").strip():
            try:
                ints[key] = int(vals[key])
                if not lo <= ints[key] <= hi:
                    raise ValueError
            except ValueError:
                errors.append(f"{PREFIX}{key.upper()}={vals[key]!r} must be an integer {lo}-{hi}")
    flags: dict[str, bool] = {}
    for key, default in (
        ("cookie_secure", mode == "team"),
        ("allow_sqlite", False),
        ("server_timing", False),
        ("warm", True),
    ):
        raw_flag = (vals.get(key) or "").strip().lower()
        if raw_flag not in _TRUE | _FALSE:
            errors.append(f"{PREFIX}{key.upper()}={vals.get(key)!r} must be 0 or 1")
        flags[key] = raw_flag in _TRUE if raw_flag else default
    backup_time = (vals.get("backup_time") or "03:00").strip().lower()
    if backup_time != "off" and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", backup_time):
        errors.append(f"{PREFIX}BACKUP_TIME={backup_time!r} must be HH:MM (24 h) or 'off'")
    alerts = _alert_settings(vals, errors)
    if errors:
        raise SettingsError("Invalid settings: " + "; ".join(errors) + ".")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        host=vals.get("host") or "127.0.0.1",
        port=port,
        mode=mode,
        cache_dir=cache_dir,
        redis_url=redis_url,
        secret_key=secret,
        risk_free_rate=rf,
        theme=theme,
        scheduler=sched_s in _TRUE and mode == "local",
        update_time=update_time,
        debug=debug_s in _TRUE,
        ml_gates=ml_gates,
        ml_retrain=ml_retrain,
        import_dirs=import_dirs,
        max_upload_mb=ints["max_upload_mb"],
        cookie_secure=flags["cookie_secure"],
        proxy_count=ints["proxy_count"],
        allow_sqlite=flags["allow_sqlite"],
        server_timing=flags["server_timing"],
        warm=flags["warm"],
        backup_dir=(
            Path(vals["backup_dir"]).expanduser()
            if vals.get("backup_dir")
            else data_dir / "backups"
        ),
        backup_time=backup_time,
        backup_keep_days=ints["backup_keep_days"],
        **alerts,
    )


def _split_list(text: str) -> tuple[str, ...]:
    """``"a, b;c"`` -> ``("a", "b", "c")``."""
    return tuple(x.strip() for x in re.split(r"[,;]", text or "") if x.strip())


def _alert_settings(vals: dict[str, str], errors: list[str]) -> dict:
    """The alert-channel fields, validated (messages never show a secret)."""
    out = {
        k: (vals.get(k) or "").strip()
        for k in (
            "telegram_token",
            "telegram_chat_id",
            "discord_webhook_url",
            "smtp_host",
            "smtp_user",
            "smtp_password",
            "smtp_from",
            "smtp_to",
            "webhook_url",
        )
    }
    out["smtp_password"] = vals.get("smtp_password") or ""  # spaces may belong to a password
    out["telegram_api_url"] = (vals.get("telegram_api_url") or "").strip().rstrip(
        "/"
    ) or "https://api.telegram.org"
    for chat in _split_list(out["telegram_chat_id"]):
        if not re.fullmatch(r"-?\d{1,20}|@\w{4,64}", chat):
            errors.append(
                f"{PREFIX}TELEGRAM_CHAT_ID={chat!r} must be a numeric chat id (groups are "
                "negative) or @channelname"
            )
    for key in ("telegram_api_url", "discord_webhook_url", "webhook_url"):
        if out[key] and not re.match(r"https?://[^/\s]+", out[key]):
            errors.append(f"{PREFIX}{key.upper()} must be an http(s):// URL")
    port = 587
    if (vals.get("smtp_port") or "").strip():
        try:
            port = int(vals["smtp_port"])
            if not 1 <= port <= 65535:
                raise ValueError
        except ValueError:
            errors.append(f"{PREFIX}SMTP_PORT={vals['smtp_port']!r} is not a port (1-65535)")
            port = 587
    out["smtp_port"] = port
    flag = (vals.get("alerts_worker") or "").strip().lower()
    if flag not in _TRUE | _FALSE:
        errors.append(f"{PREFIX}ALERTS_WORKER={vals.get('alerts_worker')!r} must be 0 or 1")
    out["alerts_worker"] = None if not flag else flag in _TRUE
    for addr in (out["smtp_from"], *_split_list(out["smtp_to"])):
        if addr and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", addr.split("<")[-1].rstrip(">")):
            errors.append(f"{PREFIX}SMTP_FROM/SMTP_TO: {addr!r} is not an e-mail address")
    return out


def _redact(url: str) -> str:
    """:func:`core.data.store.redact_url`, imported only when a message needs it."""
    from core.data.store import redact_url

    return redact_url(url)
