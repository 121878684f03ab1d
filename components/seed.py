"""Layouts that arrive with their callbacks' first answers (issue 11: page loads).

A callback that fires when its page loads costs a round trip (and the renderer's work for
it) before the page's first useful paint, and a callback that waits on another one costs
two. A page whose layout can compute those first answers itself puts them in the layout with
:func:`seed_props` and declares the callback ``prevent_initial_call=True``: the callback keeps
answering every later change, the page load sends nothing. The ``(id, prop)`` pairs are the
callback's own outputs (one list used by the decorator and by the layout).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dash import no_update

__all__ = ["seed_props"]


def seed_props(root, outputs: Sequence[tuple[str, str]], values: Iterable) -> None:
    """Set ``values`` as the initial props ``outputs`` of the components in ``root``.

    Parameters
    ----------
    root : dash.development.base_component.Component
        The page's layout tree (changed in place).
    outputs : sequence of (str, str)
        ``(component id, prop)`` pairs, in the order of ``values``.
    values : iterable
        What the callback answers for the layout's inputs, one value per output.
        ``no_update`` keeps the layout's value; None for a prop the layout leaves unset
        keeps it unset (a ``dcc.Store`` given ``data=None`` reports a change when it
        mounts, which would fire the callbacks listening to it).

    Raises
    ------
    KeyError
        When an id is not in ``root``.
    ValueError
        When ``values`` does not hold one value per output.
    """
    values = list(values)
    if len(values) != len(outputs):
        raise ValueError(f"{len(values)} values for {len(outputs)} outputs")
    for (cid, prop), value in zip(outputs, values):
        comp = root[cid]
        if value is no_update or (value is None and getattr(comp, prop, None) is None):
            continue
        setattr(comp, prop, value)
