"""Which files the web app may read as import sources, and the limits they must respect.

The Data page never hands a client-supplied path to the importer. It passes what the
browser sent through :func:`resolve_targets`:

* **Uploads** are saved by :func:`save_upload` under ``<DATA_DIR>/uploads`` with a random
  name; the browser only ever holds that name (a *token*, never the server's absolute path).
  A token that does not match :data:`TOKEN_RE` or names no saved upload is refused, so a
  forged ``data-files`` value such as ``[{"path": "/etc/passwd"}]`` reads nothing. Uploads
  are deleted after the import (:func:`discard`) and any left over after
  :data:`UPLOAD_TTL_S` seconds at the next upload.
* **Server paths** (the text field) need the ``admin`` role in team mode and must lie,
  after resolving symbolic links and ``..``, inside one of ``PREGAO_IMPORT_DIRS`` (team mode:
  none unless configured; local mode: anywhere when the setting is empty). They are never
  inside the data directory nor the SQLite database's files: opening and closing the live
  database file outside SQLite drops its POSIX locks and lost confirmed writes (issue 11).
  A refused path gets one message whether or not the file exists.
* :func:`check_limits` rejects, before any parser or pandas touches the file, files over
  ``PREGAO_MAX_UPLOAD_MB``, text lines over :data:`MAX_LINE_BYTES`, header lines with more
  than :data:`MAX_COLUMNS` fields, and ZIP archives that expand beyond
  :data:`MAX_EXPANDED_BYTES` (a 6 MB CSV with a 3-million-column header kept a worker busy
  for more than 300 s).

Messages are pt-BR and never quote file content or server paths.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os
import re
import time
import uuid
import zipfile
from pathlib import Path

from core.errors import InputError
from dashboard.settings import Settings

__all__ = [
    "TOKEN_RE",
    "MAX_LINE_BYTES",
    "MAX_COLUMNS",
    "MAX_EXPANDED_BYTES",
    "upload_dir",
    "save_upload",
    "resolve_targets",
    "server_path_allowed",
    "check_limits",
    "discard",
    "forbidden_roots",
    "refuse_data_dir_paths",
]

#: Name of a saved upload: 32 hex digits, ``_``, a sanitised file name.
TOKEN_RE = re.compile(r"^[0-9a-f]{32}_[A-Za-z0-9._^-]{1,120}$")
#: Longest accepted text line (bytes). COTAHIST records are 245 bytes, CSV bar rows < 200.
MAX_LINE_BYTES = 8192
#: Most fields accepted in a CSV header line.
MAX_COLUMNS = 64
#: Largest total uncompressed size of a ZIP or gzip file (bytes): a year of COTAHIST ~ 0,5 GB.
MAX_EXPANDED_BYTES = 2 * 1024**3
#: Uploads older than this are deleted at the next upload (seconds).
UPLOAD_TTL_S = 6 * 3600
#: Bytes of each file scanned for line lengths and columns.
SCAN_BYTES = 64 * 1024 * 1024

_NOT_ALLOWED = (
    "Caminho não permitido: importe de uma das pastas de importação configuradas "
    "(PREGAO_IMPORT_DIRS) ou envie o arquivo."
)
_ADMIN_ONLY = "Importar caminhos do servidor é permitido só a administradores; envie o arquivo."


def upload_dir(settings: Settings) -> Path:
    """``<DATA_DIR>/uploads`` (created)."""
    d = Path(settings.data_dir) / "uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sweep(folder: Path) -> None:
    limit = time.time() - UPLOAD_TTL_S
    for p in folder.iterdir():
        try:
            if p.is_file() and p.stat().st_mtime < limit:
                p.unlink()
        except OSError:
            pass


def save_upload(content: str, filename: str | None, settings: Settings) -> dict:
    """Save one ``dcc.Upload`` data URL; return ``{"token": ..., "name": ...}`` for the browser.

    Raises
    ------
    InputError
        Not base64, or larger than ``PREGAO_MAX_UPLOAD_MB``.
    """
    folder = upload_dir(settings)
    _sweep(folder)
    name = Path(filename or "arquivo").name
    _, _, b64 = (content or "").partition(",")
    limit = settings.max_upload_mb * 1024 * 1024
    if len(b64) * 3 // 4 > limit:
        raise InputError(f"{name}: arquivo maior que o limite de {settings.max_upload_mb} MB.")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{name}: envio corrompido; envie de novo.") from exc
    safe = re.sub(r"[^A-Za-z0-9._^-]", "_", name)[:120] or "arquivo"
    token = f"{uuid.uuid4().hex}_{safe}"
    (folder / token).write_bytes(data)
    return {"token": token, "name": name}


def _real(p: Path | str) -> Path:
    return Path(os.path.realpath(os.fspath(p)))


def forbidden_roots(settings: Settings) -> list[Path]:
    """Paths never read as import sources: the data dir and the SQLite database's files."""
    roots = [_real(settings.data_dir)]
    url = settings.database_url
    if url.startswith("sqlite") and ":///" in url:
        db = _real(url.split(":///", 1)[1].split("?", 1)[0])
        roots += [db.parent / (db.name + sfx) for sfx in ("", "-wal", "-shm", "-journal")]
    return roots


def _inside(p: Path, root: Path) -> bool:
    return p == root or root in p.parents


def refuse_data_dir_paths(paths, settings: Settings) -> None:
    """Raise when any of ``paths`` lies in the data directory or is a SQLite file of the store.

    Used by the CLI's ``import`` (a trusted user who may name the path in the message).

    Raises
    ------
    InputError
        Naming the first such path.
    """
    roots = forbidden_roots(settings)
    for p in paths:
        if any(_inside(_real(Path(p).expanduser()), r) for r in roots):
            raise InputError(
                f"{p}: fica no diretório de dados do Pregão (banco, cache, envios) e não é fonte "
                "de importação; copie o arquivo para outra pasta."
            )


def server_path_allowed(settings: Settings, role: str | None) -> bool:
    """True when ``role`` may import server paths at all under ``settings``."""
    if settings.is_team:
        return role == "admin" and bool(settings.import_dirs)
    return True


def _server_path(text: str, settings: Settings) -> Path:
    if "\x00" in text or len(text) > 4096:
        raise InputError(_NOT_ALLOWED)
    p = Path(text).expanduser()
    if not p.is_absolute():
        raise InputError(_NOT_ALLOWED)
    real = _real(p)
    if any(_inside(real, r) for r in forbidden_roots(settings)):
        raise InputError(_NOT_ALLOWED)
    if settings.import_dirs or settings.is_team:
        if not any(_inside(real, _real(d)) for d in settings.import_dirs):
            raise InputError(_NOT_ALLOWED)
    if not real.is_file():
        raise InputError(f"{p.name}: arquivo não encontrado na pasta de importação.")
    return real


def resolve_targets(
    files, path_text: str | None, settings: Settings, role: str | None
) -> tuple[list[Path], list[str]]:
    """Turn what the browser sent into files the importer may read.

    Parameters
    ----------
    files : list of dict or None
        The ``data-files`` store: ``[{"token": ..., "name": ...}]`` from :func:`save_upload`.
    path_text : str or None
        Server paths separated by ``;`` or new lines (used instead of ``files`` when given).
    settings : Settings
    role : str or None
        The user's role (``admin`` in local mode).

    Returns
    -------
    (paths, names)
        Real paths, each checked by :func:`check_limits`, and their display names.

    Raises
    ------
    InputError
        pt-BR, naming neither server paths nor file content: server paths without the right
        or outside the import folders, unknown or forged upload tokens, files over a limit.
    """
    if path_text and path_text.strip():
        if not server_path_allowed(settings, role):
            raise InputError(_ADMIN_ONLY if settings.import_dirs else _NOT_ALLOWED)
        texts = [t.strip() for t in re.split(r"[;\n]", path_text) if t.strip()]
        paths = [_server_path(t, settings) for t in texts]
        names = [Path(t).name for t in texts]
    else:
        paths, names = [], []
        folder = _real(upload_dir(settings))
        for f in files or []:
            token = f.get("token") if isinstance(f, dict) else None
            if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
                raise InputError("Arquivo enviado inválido ou expirado: envie de novo.")
            p = folder / token
            if not p.is_file():
                raise InputError("Arquivo enviado inválido ou expirado: envie de novo.")
            paths.append(p)
            name = f.get("name") if isinstance(f.get("name"), str) else token[33:]
            names.append(Path(name).name[:120])
    for p, n in zip(paths, names):
        check_limits(p, settings, n)
    return paths, names


def _scan_lines(fh, name: str, budget: int = SCAN_BYTES) -> None:
    read = 0
    first = True
    while read < budget:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        read += len(line)
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise InputError(
                f"{name}: linha com mais de {MAX_LINE_BYTES} bytes; não é um arquivo de cotações."
            )
        if first and line.strip():
            first = False
            fields = max(line.count(sep) for sep in (b",", b";", b"\t")) + 1
            if fields > MAX_COLUMNS:
                raise InputError(
                    f"{name}: {fields} colunas no cabeçalho (máximo {MAX_COLUMNS}); não é um "
                    "arquivo de cotações."
                )


def check_limits(path: Path, settings: Settings, name: str | None = None) -> None:
    """Refuse files over the size, line, column or expansion limits (module docstring).

    Raises
    ------
    InputError
        pt-BR, naming the file by ``name`` (never its server path) and the limit.
    """
    name = name or path.name
    limit = settings.max_upload_mb * 1024 * 1024
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{name}: arquivo maior que o limite de {settings.max_upload_mb} MB.")
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic[:2] == b"PK":
            try:
                with zipfile.ZipFile(path) as zf:
                    infos = zf.infolist()
                    if sum(i.file_size for i in infos) > MAX_EXPANDED_BYTES:
                        raise InputError(f"{name}: o ZIP expande para mais de 2 GB.")
                    for info in infos[:16]:
                        with zf.open(info) as fh:
                            _scan_lines(fh, name, 1024 * 1024)
            except zipfile.BadZipFile as exc:
                raise InputError(f"{name}: ZIP corrompido.") from exc
        elif magic[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                _scan_lines(fh, name)
                fh.seek(0)
                total = 0
                while chunk := fh.read(16 * 1024 * 1024):
                    total += len(chunk)
                    if total > MAX_EXPANDED_BYTES:
                        raise InputError(f"{name}: o arquivo compactado expande para mais de 2 GB.")
        else:
            with open(path, "rb") as fh:
                _scan_lines(fh, name)
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise InputError(f"{name}: não foi possível ler o arquivo.") from exc


def discard(paths, settings: Settings) -> None:
    """Delete the uploads among ``paths`` (server paths are never touched)."""
    folder = _real(upload_dir(settings))
    for p in paths or []:
        rp = _real(p)
        if rp.parent == folder and TOKEN_RE.fullmatch(rp.name):
            try:
                rp.unlink()
            except OSError:
                pass
