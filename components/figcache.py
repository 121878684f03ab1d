"""A small content-addressed cache of built figures (per web worker process).

Building a Plotly figure through ``plotly.graph_objects`` validates every property: the Quotes
chart takes ~0,2–1 s of CPU per request (``make_subplots``, ``update_layout``, the template),
about three quarters of the Quotes callback, while a desk looks at the same few tickers and
ranges over and over (issue 15's load goal: interactive p95 ≤ 300 ms with 20 users on two web
workers). :func:`cached_figure` keys the built figure by a digest of **everything the builder
receives** (a canonical digest of the view's data — values, index, dtypes — and the other
arguments), so a hit is always the figure the
builder would draw now — a new bar, a corrected price or another theme is a different key;
nothing ever needs invalidating. The figure is kept as the plain JSON dict Dash sends
(``Figure.to_dict()`` passed once through plotly's JSON encoder, arrays in its typed-array
form, so each later request is encoded by the ``json`` module's C encoder alone); at most
:data:`MAX_ENTRIES` per process (least recently used go).

Shared between processes: :func:`share` (the team deployment passes its Redis client) also
keeps each built figure, as JSON, under its digest for :data:`SHARED_TTL` seconds, so a
figure is built once for every web worker instead of once per worker (issue 15, load: a
Quotes figure costs ~0,1 s of CPU to build, a few milliseconds to read back). The keys name
a fingerprint of the ``components`` sources too: processes running other code never share.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = [
    "MAX_ENTRIES",
    "SHARED_TTL",
    "cached_figure",
    "clear",
    "share",
    "stats",
    "memoize_plotly_paths",
]

log = logging.getLogger(__name__)

#: Figures kept per process (a Quotes figure is ~100–300 kB as a dict).
MAX_ENTRIES = 64

_cache: OrderedDict[bytes, dict] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0, "shared_hits": 0}

#: Default seconds a figure stays in the shared store after it was built (:func:`share`).
SHARED_TTL = 900

#: ``(client, key prefix, ttl)`` of :func:`share`, or None (this process only).
_shared: tuple | None = None
_warned: list[bool] = []  # the shared store's first error is a warning, later ones debug


def _complain(what: str, exc: Exception) -> None:
    (log.debug if _warned else log.warning)("shared figure cache: %s (%s)", what, exc)
    if not _warned:
        _warned.append(True)


def share(client, *, ttl: int = SHARED_TTL) -> None:
    """Also keep built figures in ``client``, shared by every process that passes it.

    Parameters
    ----------
    client : redis.Redis or None
        Anything with ``get(key) -> bytes | None`` and ``set(key, value, ex=seconds)``;
        None stops sharing. Errors of the client are logged and never reach the caller
        (the figure is then built here).
    ttl : int
        Seconds each figure is kept (>= 1).
    """
    global _shared
    if client is None:
        _shared = None
        return
    if int(ttl) < 1:
        raise ValueError(f"ttl must be >= 1 s, got {ttl!r}")
    _shared = (client, f"pregao:fig:{_code_fingerprint()}:", int(ttl))


def _code_fingerprint() -> str:
    """A digest of the ``components`` package sources (the figure builders and what they
    use): processes running different code never read each other's figures."""
    from pathlib import Path

    h = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _plain(fig: dict) -> dict:
    """``fig`` as plain JSON values (numpy arrays already in plotly's typed-array form):
    what every later request sends is then encoded by the ``json`` module's C encoder,
    without plotly's per-object ``default`` hook (done once here, not per request)."""
    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(fig))


def _shared_get(key: bytes) -> dict | None:
    shared = _shared
    if shared is None:
        return None
    client, prefix, _ = shared
    try:
        raw = client.get(prefix + key.hex())
        return None if raw is None else json.loads(raw)
    except Exception as exc:  # noqa: BLE001 - the shared store is an optimisation only
        _complain("unavailable, building here", exc)
        return None


def _shared_put(key: bytes, fig: dict) -> None:
    shared = _shared
    if shared is None:
        return
    client, prefix, ttl = shared
    try:
        from plotly.io.json import to_json_plotly

        client.set(prefix + key.hex(), to_json_plotly(fig), ex=ttl)
    except Exception as exc:  # noqa: BLE001 - the shared store is an optimisation only
        _complain("unavailable, figure kept here only", exc)


def _array(h, a: np.ndarray) -> None:
    h.update(f"A{a.dtype.str}{a.shape}".encode())
    if a.dtype.kind == "O":
        h.update(repr(a.tolist()).encode())
    else:
        h.update(np.ascontiguousarray(a).tobytes())


def _feed(h, o) -> None:
    """Feed a canonical encoding of ``o`` (its content, not its memory layout) to ``h``."""
    if o is None or isinstance(o, bool | int | float | str | bytes):
        h.update(f"{type(o).__name__}:{o!r};".encode())
    elif isinstance(o, pd.DataFrame):
        h.update(b"DF")
        _feed(h, [str(c) for c in o.columns])
        _feed(h, o.index)
        for c in o.columns:
            _array(h, o[c].to_numpy())
    elif isinstance(o, pd.Series):
        h.update(b"S")
        _feed(h, str(o.name))
        _feed(h, o.index)
        _array(h, o.to_numpy())
    elif isinstance(o, pd.Index):
        h.update(f"I{type(o).__name__}{o.name!r}".encode())
        _array(h, o.to_numpy())
    elif isinstance(o, np.ndarray):
        _array(h, o)
    elif isinstance(o, np.generic):
        _feed(h, o.item())
    elif isinstance(o, pd.Timestamp | dt.datetime | dt.date):
        h.update(f"T{o.isoformat()};".encode())
    elif isinstance(o, dict):
        h.update(f"D{len(o)}".encode())
        for k in sorted(o, key=repr):
            _feed(h, k)
            _feed(h, o[k])
    elif isinstance(o, list | tuple):
        h.update(f"L{len(o)}".encode())
        for v in o:
            _feed(h, v)
    elif dataclasses.is_dataclass(o) and not isinstance(o, type):
        h.update(f"C{type(o).__module__}.{type(o).__qualname__}".encode())
        for f in dataclasses.fields(o):
            _feed(h, f.name)
            _feed(h, getattr(o, f.name))
    else:
        raise TypeError(f"no canonical digest for {type(o).__name__}")


def _digest(build: Callable, args: tuple, kwargs: dict) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{build.__module__}.{build.__qualname__}".encode())
    _feed(h, list(args))
    _feed(h, kwargs)
    return h.digest()


def cached_figure(build: Callable, *args, **kwargs) -> dict:
    """``build(*args, **kwargs).to_dict()``, from the cache when the same inputs were drawn.

    Parameters
    ----------
    build : callable
        A pure figure builder returning a ``plotly.graph_objects.Figure``.
    *args, **kwargs
        Its arguments: scalars, dates, lists, dicts, numpy/pandas objects and dataclasses of
        them (anything else bypasses the cache).

    Returns
    -------
    dict
        The figure as ``{"data": [...], "layout": {...}}`` (do not mutate it: it is shared).
    """
    try:
        key = _digest(build, args, kwargs)
    except TypeError:
        return build(*args, **kwargs).to_dict()
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return hit
    fig = _shared_get(key)
    if fig is None:
        fig = _plain(build(*args, **kwargs).to_dict())
        _shared_put(key, fig)
        shared_hit = 0
    else:
        shared_hit = 1
    with _lock:
        _stats["misses"] += 1 - shared_hit
        _stats["shared_hits"] += shared_hit
        _cache[key] = fig
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return fig


def memoize_plotly_paths() -> None:
    """Memoize plotly's parser of property paths (``"xaxis.rangeslider.visible"``,
    ``"title_text"``), once per process.

    ``plotly.basedatatypes._str_to_dict_path_full`` is a pure function of its string but
    re-parses it on every ``update_layout``/``update_xaxes``/``make_subplots`` call, defining
    a helper class per call (``_plotly_utils.utils.chomp_empty_strings``): about a third of
    the CPU time of building the Quotes figure. The memo returns the same values (the index
    list as a tuple; callers only read it); the figures built are identical (tested).
    """
    import functools

    import plotly.basedatatypes as bdt

    if getattr(bdt._str_to_dict_path_full, "_pregao_memo", False):
        return
    parse = bdt._str_to_dict_path_full

    @functools.lru_cache(maxsize=8192)
    def memo(key_path_str: str):
        path, idcs = parse(key_path_str)
        return path, tuple(idcs)

    def fast(key_path_str):
        if isinstance(key_path_str, str):
            return memo(key_path_str)
        return parse(key_path_str)

    fast._pregao_memo = True  # type: ignore[attr-defined]
    fast._pregao_original = parse  # type: ignore[attr-defined]
    bdt._str_to_dict_path_full = fast


def clear() -> None:
    """Empty the cache (tests)."""
    with _lock:
        _cache.clear()
        _stats.update(hits=0, misses=0, shared_hits=0)


def stats() -> dict:
    """``{"hits", "misses", "shared_hits", "entries"}`` of this process (``shared_hits``:
    figures another process had built, :func:`share`)."""
    with _lock:
        return {**_stats, "entries": len(_cache)}
