"""Local accounts: argon2 hashes, wrong passwords refused, the limits per name and per client that an attacker
can neither extend nor use to tell which names exist, and the CLI."""
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.model import now
from dke_geo.roles import SYSTEM, Role
from dke_geo.services import users as user_service
from dke_geo.services.users import LoginRefused
from dke_geo.store.db import reading, transaction
from dke_geo.store.tables import login_attempts, users
from tests.conftest import context_for

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "lang-nok-kode-2017"


@pytest.fixture
def anna(ctx):
    user_service.add_user(ctx, SYSTEM, "anna", Role.PLANNER, PASSWORD)
    return ctx


def test_hash_is_argon2id_and_never_the_password(anna):
    with reading(anna.engine) as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "anna")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_right_password_gives_the_stored_role_wrong_one_is_refused(anna):
    actor = user_service.authenticate(anna, "anna", PASSWORD)
    assert (actor.name, actor.role) == ("anna", Role.PLANNER)
    for name, password in (("anna", "forkert-kode-123"), ("anna", ""), ("nobody", PASSWORD)):
        with pytest.raises(LoginRefused) as err:
            user_service.authenticate(anna, name, password)
        assert err.value.message("da") == "Forkert brugernavn eller adgangskode."


def test_rate_limit_locks_the_name_even_for_the_right_password(anna):
    for _ in range(user_service.MAX_FAILURES):
        with pytest.raises(LoginRefused):
            user_service.authenticate(anna, "anna", "forkert-kode-123")
    with pytest.raises(LoginRefused) as err:
        user_service.authenticate(anna, "anna", PASSWORD)
    assert err.value.key == "error.login_locked" and "15 minutter" in err.value.message("da")
    with transaction(anna.engine) as conn:  # the window passes
        conn.execute(update(login_attempts).values(at=now() - user_service.LOCKOUT - timedelta(minutes=1)))
    assert user_service.authenticate(anna, "anna", PASSWORD).name == "anna"


def test_short_passwords_and_duplicate_names_are_refused(anna):
    with pytest.raises(Exception, match="at least 10"):
        user_service.add_user(anna, SYSTEM, "bo", Role.STAFF, "kort")
    with pytest.raises(Exception, match="already exists"):
        user_service.add_user(anna, SYSTEM, "anna", Role.STAFF, PASSWORD)


def test_email_maps_to_the_role_for_openid_connect(anna):
    user_service.add_user(anna, SYSTEM, "carl", Role.STAFF, email="Carl@Albertslund.dk")
    assert user_service.actor_for_email(anna, "carl@albertslund.dk").role == Role.STAFF
    with pytest.raises(LoginRefused):
        user_service.actor_for_email(anna, "stranger@example.org")


# ---------------------------------------------------------------- login abuse
def _verifications(monkeypatch) -> list[str]:
    """The hashes argon2 verifies passwords against from now on (the real verification still runs)."""
    seen: list[str] = []
    verify = PasswordHasher.verify

    def counted(self, password_hash, password):
        seen.append(password_hash)
        return verify(self, password_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return seen


def _seconds(ctx, name: str) -> float:
    started = time.perf_counter()
    with pytest.raises(LoginRefused):
        user_service.authenticate(ctx, name, "forkert-kode-123", client=f"c-{name}")
    return time.perf_counter() - started


def test_unknown_names_cost_the_same_argon2_work_as_real_ones(anna, monkeypatch):
    """A name that does not exist, one without a local password (OpenID Connect only) and a real one each cost
    one argon2 verification with the hasher's parameters, so the answer's timing does not tell which exist
    (before: about 1 ms for an unknown name, 220 ms for a real one)."""
    user_service.add_user(anna, SYSTEM, "carl", Role.STAFF, email="carl@albertslund.dk")
    seen = _verifications(monkeypatch)
    for name in ("anna", "nobody", "carl"):
        with pytest.raises(LoginRefused):
            user_service.authenticate(anna, name, "forkert-kode-123", client=f"c-{name}")
    assert len(seen) == 3
    params = {h.split("$")[3] for h in seen}  # m=..,t=..,p=..: the same memory and time cost for each
    assert len(params) == 1 and all(h.startswith("$argon2id$") for h in seen)
    # and measured as an attacker would: medians of attempts taken in turns
    known, unknown = [], []
    for _ in range(5):
        known.append(_seconds(anna, "anna"))
        unknown.append(_seconds(anna, "nobody"))
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)


def _fail(ctx, name: str, client: str = "c1", times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(LoginRefused):
            user_service.authenticate(ctx, name, "forkert-kode-123", client=client)


def _age_attempts(ctx, minutes: float) -> None:
    """Move every recorded attempt `minutes` into the past (the clock, for the lock's window)."""
    with transaction(ctx.engine) as conn:
        for attempt_id, at in conn.execute(select(login_attempts.c.id, login_attempts.c.at)).all():
            conn.execute(update(login_attempts).where(login_attempts.c.id == attempt_id)
                         .values(at=at - timedelta(minutes=minutes)))


def test_attempts_while_locked_do_not_extend_the_lock(anna):
    """An attacker who keeps trying a locked name cannot keep it locked: the lock runs out 15 minutes after the
    failures that started it (before: every attempt while locked counted as a failure, so it never ran out)."""
    _fail(anna, "anna", times=user_service.MAX_FAILURES)
    for minutes in (1, 5, 5, 3):  # the attacker goes on for 14 minutes
        _age_attempts(anna, minutes)
        with pytest.raises(LoginRefused) as err:
            user_service.authenticate(anna, "anna", PASSWORD, client="c1")
        assert err.value.key == "error.login_locked"
        _fail(anna, "anna", times=3)
    _age_attempts(anna, 1.5)  # 15.5 minutes after the lock started
    assert user_service.authenticate(anna, "anna", PASSWORD, client="c2").name == "anna"


def test_a_client_is_limited_over_all_names(anna):
    """One client guessing a few passwords for each of many names is stopped, even for a right password;
    another client is not."""
    for n in range(user_service.MAX_CLIENT_FAILURES // 4):
        _fail(anna, f"name-{n}", client="198.51.100.7", times=4)  # under the limit per name
    with pytest.raises(LoginRefused) as err:
        user_service.authenticate(anna, "anna", PASSWORD, client="198.51.100.7")
    assert err.value.key == "error.login_client_locked" and "denne adresse" in err.value.message("da")
    _fail(anna, "anna", client="198.51.100.7", times=10)  # refused by the lock: not counted for the name
    assert user_service.authenticate(anna, "anna", PASSWORD, client="203.0.113.9").name == "anna"


@pytest.mark.parametrize(("peer", "forwarded", "proxies", "client"), [
    ("203.0.113.9", None, 0, "203.0.113.9"),
    ("203.0.113.9", "6.6.6.6", 0, "203.0.113.9"),              # no proxy trusted: the header is the client's
    ("10.0.0.2", "6.6.6.6, 192.0.2.7", 1, "192.0.2.7"),       # the entry our proxy added, not the forged first
    ("10.0.0.3", "6.6.6.6, 192.0.2.7, 10.0.0.2", 2, "192.0.2.7"),
    ("10.0.0.2", None, 1, "10.0.0.2"),                         # bypassed the proxy: the connection's address
    (None, None, 0, ""),                                       # localhost (Streamlit gives no address)
])
def test_the_client_of_a_login(peer, forwarded, proxies, client):
    assert user_service.login_client(peer, forwarded, proxies) == client


# ---------------------------------------------------------------- the command line
def _cli(env, *args, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_cli_user_add_with_password_from_stdin_list_set_role_remove(tmp_path):
    env = {**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": ""}
    assert _cli(env, "init-db").returncode == 0
    done = _cli(env, "user", "add", "Anna Jensen", "--role", "planner", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    ctx = AppContext.open(config.load({"DKE_GEO_DATA_DIR": str(tmp_path)}))
    assert user_service.authenticate(ctx, "Anna Jensen", PASSWORD).role == Role.PLANNER
    short = _cli(env, "user", "add", "bo", "--role", "staff", "--password-stdin", stdin="kort\n")
    assert short.returncode == 1 and "mindst 10" in short.stderr
    assert _cli(env, "user", "set-role", "Anna Jensen", "staff").returncode == 0
    listed = _cli(env, "user", "list").stdout
    assert "Anna Jensen" in listed and "staff" in listed and "bo" not in listed
    assert _cli(env, "user", "remove", "Anna Jensen").returncode == 0
    assert _cli(env, "user", "remove", "Anna Jensen").returncode == 1
    ctx.close()


def test_cli_password_prompt_is_hidden_and_asked_twice(tmp_path):
    """Typed twice on a prompt (here through a pipe, as a terminal would send it); a mismatch asks again."""
    env = {**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": ""}
    _cli(env, "init-db")
    done = _cli(env, "user", "add", "carl", "--role", "staff",
                stdin=f"{PASSWORD}\nanden-kode-999\n{PASSWORD}\n{PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout  # never echoed
    assert "do not match" in (done.stdout + done.stderr).lower()
    with context_for({"DKE_GEO_DATA_DIR": str(tmp_path)}) as ctx:
        assert user_service.authenticate(ctx, "carl", PASSWORD).role == Role.STAFF


def test_cli_demo_prints_only_the_demo_accounts_that_exist(tmp_path):
    env = {**os.environ, "DKE_GEO_DATA_DIR": str(tmp_path), "DKE_GEO_DATABASE_URL": ""}
    _cli(env, "init-db")
    assert "demo-admin-2017" in _cli(env, "demo").stdout
    _cli(env, "user", "remove", "demo-admin")
    again = _cli(env, "demo", "--if-empty").stdout  # what `make run` prints on every start
    assert "demo-planlaegger-2017" in again and "demo-admin" not in again
