"""Chart drawings stored per ticker and author (issue 14, Alembic 0016)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.drawings import Drawing, fib_levels, list_drawings, save_drawings
from core.errors import InputError

T0, T1 = pd.Timestamp("2022-03-02 10:00"), pd.Timestamp("2022-03-03 15:30")


def _d(kind="trend", y0=110_000.0, y1=112_500.0):
    return Drawing(ticker="WINFUT", kind=kind, x0=T0, x1=T1, y0=y0, y1=y1, style={"width": 2})


def test_saved_drawings_come_back_and_replace_the_authors_set(empty_store):
    stored = save_drawings(empty_store, "winfut", [_d(), _d("level", 111_000.0, 111_000.0)])
    assert [d.kind for d in stored] == ["trend", "level"] and all(d.id for d in stored)
    got = list_drawings(empty_store, "WINFUT")
    assert [(d.kind, d.x0, d.y1, d.style) for d in got] == [
        ("trend", T0, 112_500.0, {"width": 2}),
        ("level", T0, 111_000.0, {"width": 2}),
    ]
    save_drawings(empty_store, "WINFUT", [_d("rect")])  # the whole set is replaced
    assert [d.kind for d in list_drawings(empty_store, "WINFUT")] == ["rect"]
    assert list_drawings(empty_store, "PETR4") == []


def test_drawings_follow_the_ownership_rules(empty_store):
    save_drawings(empty_store, "WINFUT", [_d("level")])  # the team's (local mode)
    save_drawings(empty_store, "WINFUT", [_d("trend")], author="ana")
    save_drawings(empty_store, "WINFUT", [_d("fib")], author="bia")
    assert sorted(d.kind for d in list_drawings(empty_store, "WINFUT", "ana")) == ["level", "trend"]
    assert sorted(d.kind for d in list_drawings(empty_store, "WINFUT", "bia")) == ["fib", "level"]
    save_drawings(empty_store, "WINFUT", [], author="ana")  # ana clears hers only
    assert sorted(d.kind for d in list_drawings(empty_store, "WINFUT")) == ["fib", "level"]


def test_bad_drawings_are_refused():
    with pytest.raises(InputError):
        _d("circle")
    with pytest.raises(InputError):
        _d(y0=float("nan"))


def test_fib_levels_go_from_the_first_point_to_the_second():
    levels = dict(fib_levels(100.0, 200.0))
    assert levels[0.0] == 100.0 and levels[1.0] == 200.0
    assert levels[0.618] == pytest.approx(161.8) and levels[0.5] == 150.0
