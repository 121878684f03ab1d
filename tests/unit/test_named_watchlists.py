"""Issue 14 (Mercado): several named watchlists per trader, per user in team mode."""

from __future__ import annotations

import pytest

from core.data.watchlist import (
    DEFAULT_LIST,
    add_to_watchlist,
    create_watchlist,
    delete_watchlist,
    get_watchlist,
    list_watchlists,
    remove_from_watchlist,
    rename_watchlist,
    watchlist,
)
from core.errors import InputError, UnknownTickerError


@pytest.fixture
def store(empty_store):
    for t in ("PETR4", "VALE3", "ITUB4", "BBAS3"):
        empty_store.upsert_instrument(t)
    return empty_store


def test_every_store_has_the_default_list(store):
    """Revision 0018 creates the team's "Minha lista" even when the old list was empty."""
    assert [w.name for w in list_watchlists(store)] == [DEFAULT_LIST]
    assert watchlist(store) == []


def test_create_rename_delete_and_edit_named_lists(store):
    create_watchlist(store, "  Bancos  ", ["ITUB4", "BBAS3", "ITUB4"])
    assert get_watchlist(store, "Bancos").tickers == ("ITUB4", "BBAS3")
    add_to_watchlist(store, ["PETR4"], name="Bancos")
    remove_from_watchlist(store, ["ITUB4"], name="Bancos")
    assert watchlist(store, name="Bancos") == ["BBAS3", "PETR4"]
    assert watchlist(store) == []  # the default list is another list
    with pytest.raises(InputError, match="Já existe"):
        create_watchlist(store, "Bancos")
    rename_watchlist(store, "Bancos", "Financeiro")
    assert [w.name for w in list_watchlists(store)] == [DEFAULT_LIST, "Financeiro"]
    assert watchlist(store, name="Financeiro") == ["BBAS3", "PETR4"]
    with pytest.raises(InputError, match="Já existe"):
        rename_watchlist(store, "Financeiro", DEFAULT_LIST)
    delete_watchlist(store, "Financeiro")
    assert [w.name for w in list_watchlists(store)] == [DEFAULT_LIST]
    with pytest.raises(InputError, match="não encontrada"):
        delete_watchlist(store, "Financeiro")
    for bad in ("", "   ", "x" * 41):
        with pytest.raises(InputError):
            create_watchlist(store, bad)
    with pytest.raises(UnknownTickerError):
        create_watchlist(store, "Nova", ["XXXX3"])
    assert "Nova" not in [w.name for w in list_watchlists(store)]  # one transaction


def test_lists_are_per_user_and_team_lists_read_only_to_users(store):
    add_to_watchlist(store, ["PETR4"])  # the team's default list
    create_watchlist(store, "Day trade", ["VALE3"], owner="ana")
    create_watchlist(store, "Day trade", ["ITUB4"], owner="caio")  # same name, another user
    assert [(w.name, w.owner) for w in list_watchlists(store, owner="ana")] == [
        (DEFAULT_LIST, None),
        ("Day trade", "ana"),
    ]
    assert watchlist(store, owner="caio", name="Day trade") == ["ITUB4"]
    assert [w.name for w in list_watchlists(store)] == [DEFAULT_LIST]  # the team's only
    with pytest.raises(InputError, match="não encontrada"):  # another user's list is invisible
        get_watchlist(store, "Day trade", owner="bia")
    with pytest.raises(InputError, match="equipe"):
        rename_watchlist(store, DEFAULT_LIST, "Minha", owner="ana")
    with pytest.raises(InputError, match="equipe"):
        delete_watchlist(store, DEFAULT_LIST, owner="ana")
    # editing the team's list gives the user an own copy that hides it
    add_to_watchlist(store, ["VALE3"], owner="ana")
    lists = list_watchlists(store, owner="ana")
    assert [(w.name, w.owner, w.tickers) for w in lists][0] == (
        DEFAULT_LIST,
        "ana",
        ("PETR4", "VALE3"),
    )
    assert watchlist(store) == ["PETR4"]
    remove_from_watchlist(store, ["PETR4", "VALE3"], owner="ana")  # emptied: the team's again
    assert get_watchlist(store, DEFAULT_LIST, owner="ana").owner is None
    delete_watchlist(store, "Day trade", owner="ana")
    assert watchlist(store, owner="caio", name="Day trade") == ["ITUB4"]
