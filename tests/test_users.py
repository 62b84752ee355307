"""Local accounts: argon2 hashes, wrong passwords refused, the rate limit, the CLI, and the signed login
tokens that keep a login across a page reload."""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.model import now
from dke_geo.roles import SYSTEM, Role
from dke_geo.services import sessions
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


# ---------------------------------------------------------------- login tokens (page reloads)
@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_token_restores_the_login_and_reads_the_role_from_the_database(anna, data_dir):
    actor = user_service.authenticate(anna, "anna", PASSWORD)
    token = sessions.issue(anna, actor)
    assert sessions.actor_for_token(anna, token) == actor
    user_service.set_role(anna, SYSTEM, "anna", Role.STAFF)
    assert sessions.actor_for_token(anna, token).role == Role.STAFF
    key = data_dir / "session.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and len(bytes.fromhex(key.read_text())) == 32


def test_token_is_refused_when_forged_expired_or_the_account_changed(anna, data_dir, monkeypatch):
    actor = user_service.authenticate(anna, "anna", PASSWORD)
    token = sessions.issue(anna, actor)
    assert sessions.actor_for_token(anna, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert sessions.actor_for_token(anna, "not-a-token") is None
    monkeypatch.setattr(sessions, "LIFETIME", timedelta(seconds=-1))
    assert sessions.actor_for_token(anna, token) is None
    monkeypatch.undo()
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(data_dir))
    with transaction(anna.engine) as conn:  # a new password ends the sessions made with the old one
        conn.execute(update(users).where(users.c.name == "anna").values(password_hash=users.c.password_hash + "x"))
    assert sessions.actor_for_token(anna, token) is None


def test_token_of_a_removed_account_or_under_another_secret_is_refused(anna, data_dir):
    token = sessions.issue(anna, user_service.authenticate(anna, "anna", PASSWORD))
    (data_dir / "session.key").unlink()  # a new secret logs everybody out
    assert sessions.actor_for_token(anna, token) is None
    token = sessions.issue(anna, user_service.authenticate(anna, "anna", PASSWORD))
    user_service.remove_user(anna, SYSTEM, "anna")
    assert sessions.actor_for_token(anna, token) is None


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
    assert short.returncode == 1 and "at least 10" in short.stderr
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
