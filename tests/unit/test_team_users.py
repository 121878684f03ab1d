"""Users, password policy, brute-force throttling and the audit log (dashboard.users)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import InputError
from dashboard import users as U

PW = "correct horse battery"


def test_add_and_authenticate_with_scrypt_hash(empty_store):
    u = U.add_user(empty_store, "Ana", PW, "trader")
    assert u.username == "ana" and u.role == "trader"
    with empty_store.engine.connect() as c:
        h = c.execute(U.users_table.select()).first().password_hash
    assert h.startswith("scrypt:") and PW not in h
    assert U.authenticate(empty_store, "ANA", PW, "10.0.0.1").ok
    bad = U.authenticate(empty_store, "ana", "wrong password!", "10.0.0.1")
    unknown = U.authenticate(empty_store, "nobody", "wrong password!", "10.0.0.1")
    assert not bad.ok and bad.message == unknown.message  # no user enumeration


@pytest.mark.parametrize(
    "pw, msg",
    [
        ("short", "curta"),
        ("aaaaaaaaaaaaaa", "variados"),
        ("xxana-123456", "nome"),
        ("senha1234567", "conhecida"),
    ],
)
def test_password_policy(empty_store, pw, msg):
    with pytest.raises(InputError, match=msg):
        U.add_user(empty_store, "ana", pw, "viewer")


def test_growing_delays_then_lock_an_admin_lifts(empty_store):
    U.add_user(empty_store, "ana", PW, "trader")
    t = dt.datetime(2026, 1, 5, 12, 0, 0)
    waits = []
    for k in range(U.LOCK_AFTER):
        r = U.authenticate(empty_store, "ana", "wrong password!", f"10.0.0.{k}", now=t)
        assert not r.ok and r.retry_after == 0 and r.message == "Usuário ou senha inválidos."
        if k + 1 >= U.FREE_FAILURES:
            # an attempt at once, even with the right password, must wait (or meet the lock)
            nxt = U.authenticate(empty_store, "ana", PW, f"10.0.1.{k}", now=t)
            assert not nxt.ok
            if k + 1 >= U.LOCK_AFTER:
                assert "bloqueada" in nxt.message
            else:
                assert nxt.retry_after > 0
                waits.append(nxt.retry_after)
        t += dt.timedelta(seconds=(waits[-1] if waits else 0) + 1)
    assert waits == sorted(waits) and waits[-1] > waits[0]  # growing delays
    later = t + dt.timedelta(days=1)
    assert not U.authenticate(empty_store, "ana", PW, "10.0.2.1", now=later).ok
    U.unlock(empty_store, "ana", actor="root")
    assert U.authenticate(empty_store, "ana", PW, "10.0.2.1", now=later).ok


def test_per_ip_throttle_across_accounts_and_ip_unlock(empty_store):
    U.add_user(empty_store, "ana", PW, "trader")
    t = dt.datetime(2026, 1, 5, 12, 0, 0)
    for k in range(U.IP_FREE_FAILURES + 1):
        U.authenticate(empty_store, f"guess{k}", "wrong password!", "203.0.113.9", now=t)
    r = U.authenticate(empty_store, "ana", PW, "203.0.113.9", now=t)
    assert not r.ok and r.retry_after > 0 and "endereço" in r.message
    assert U.authenticate(empty_store, "ana", PW, "198.51.100.1", now=t).ok  # other IPs unaffected
    U.unlock(empty_store, ip_address="203.0.113.9", actor="root")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    assert U.authenticate(empty_store, "ana", PW, "203.0.113.9", now=later).ok


def test_roles_disable_and_last_admin(empty_store):
    U.add_user(empty_store, "root", PW, "admin")
    U.add_user(empty_store, "bia", PW, "viewer")
    assert U.has_role("admin", "trader") and not U.has_role("viewer", "trader")
    assert not U.has_role(None, "viewer")
    with pytest.raises(InputError, match="único administrador"):
        U.set_role(empty_store, "root", "trader")
    with pytest.raises(InputError, match="único administrador"):
        U.set_active(empty_store, "root", False)
    U.set_role(empty_store, "bia", "trader", actor="root", ip="10.0.0.5")
    tok = U.get_user(empty_store, "bia").session_token
    U.set_password(empty_store, "bia", "another long pass 9", actor="root")
    assert U.get_user(empty_store, "bia").session_token != tok  # sessions end
    U.set_active(empty_store, "bia", False, actor="root")
    assert not U.authenticate(empty_store, "bia", "another long pass 9", "10.0.0.5").ok
    acts = [e.action for e in U.audit_entries(empty_store)]
    for a in ("user_add", "user_role", "user_passwd", "user_disable", "login_failed"):
        assert a in acts
    role_change = U.audit_entries(empty_store, action="user_role")[0]
    assert role_change.username == "root" and role_change.ip == "10.0.0.5"
    assert "viewer -> trader" in role_change.detail
