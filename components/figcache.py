"""A small content-addressed cache of built figures (per web worker process).

Building a Plotly figure through ``plotly.graph_objects`` validates every property: the Quotes
chart takes ~0,2–1 s of CPU per request (``make_subplots``, ``update_layout``, the template),
about three quarters of the Quotes callback, while a desk looks at the same few tickers and
ranges over and over (issue 15's load goal: interactive p95 ≤ 300 ms with 20 users on two web
workers). :func:`cached_figure` keys the built figure by a digest of **everything the builder
receives** (the view's data, pickled, and the arguments), so a hit is always the figure the
builder would draw now — a new bar, a corrected price or another theme is a different key;
nothing ever needs invalidating. The figure is kept as the plain JSON-ready dict Dash sends
(``Figure.to_dict()``); at most :data:`MAX_ENTRIES` per process (least recently used go).
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["MAX_ENTRIES", "cached_figure", "clear", "stats"]

#: Figures kept per process (a Quotes figure is ~100–300 kB as a dict).
MAX_ENTRIES = 64

_cache: OrderedDict[bytes, dict] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def _digest(build: Callable, args: tuple, kwargs: dict) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{build.__module__}.{build.__qualname__}".encode())
    h.update(pickle.dumps((args, sorted(kwargs.items())), protocol=pickle.HIGHEST_PROTOCOL))
    return h.digest()


def cached_figure(build: Callable, *args, **kwargs) -> dict:
    """``build(*args, **kwargs).to_dict()``, from the cache when the same inputs were drawn.

    Parameters
    ----------
    build : callable
        A pure figure builder returning a ``plotly.graph_objects.Figure``.
    *args, **kwargs
        Its arguments; must be picklable (dataclasses of pandas objects are). Inputs that
        cannot be pickled bypass the cache.

    Returns
    -------
    dict
        The figure as ``{"data": [...], "layout": {...}}`` (do not mutate it: it is shared).
    """
    try:
        key = _digest(build, args, kwargs)
    except (pickle.PicklingError, TypeError, AttributeError):
        return build(*args, **kwargs).to_dict()
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return hit
    fig = build(*args, **kwargs).to_dict()
    with _lock:
        _stats["misses"] += 1
        _cache[key] = fig
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return fig


def clear() -> None:
    """Empty the cache (tests)."""
    with _lock:
        _cache.clear()
        _stats.update(hits=0, misses=0)


def stats() -> dict:
    """``{"hits", "misses", "entries"}`` of this process."""
    with _lock:
        return {**_stats, "entries": len(_cache)}
