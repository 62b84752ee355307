"""The app app_ctx's cache as sessions share it: one build per entry at a time, a failed build leaves the entry to
the next one who asks, and a newer data version replaces the older entries."""
from __future__ import annotations

import threading
import time

import pytest

from dke_geo import config
from dke_geo.context import AppContext
from dke_geo.store.db import make_engine


@pytest.fixture
def app_ctx(sqlite_url):
    ctx = AppContext(config.load({"DKE_GEO_DATABASE_URL": sqlite_url}), make_engine(sqlite_url))
    yield ctx
    ctx.close()


def test_who_asks_during_a_build_waits_for_it_instead_of_building_again(app_ctx):
    builds, started = [], threading.Event()

    def build():
        builds.append(threading.current_thread().name)
        started.set()
        time.sleep(0.3)  # a slow read: the second session asks meanwhile
        return "value"

    got = {}
    first = threading.Thread(target=lambda: got.setdefault("first", app_ctx.cached("k", 1, None, build)))
    first.start()
    assert started.wait(5)
    got["second"] = app_ctx.cached("k", 1, None, build)
    first.join(5)
    assert got == {"first": "value", "second": "value"}
    assert len(builds) == 1


def test_a_failed_build_is_built_again_by_the_next_who_asks(app_ctx):
    def fail():
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        app_ctx.cached("k", 1, None, fail)
    assert app_ctx.cached("k", 1, None, lambda: "value") == "value"
    assert app_ctx.cached("k", 1, None, fail) == "value"  # kept: no second build


def test_a_newer_version_replaces_the_older_entries_of_its_kind(app_ctx):
    assert app_ctx.cached("k", 1, "a", lambda: "old") == "old"
    assert app_ctx.cached("other", 1, None, lambda: "kept") == "kept"
    assert app_ctx.cached("k", 2, "b", lambda: "new") == "new"
    assert app_ctx.cached("k", 1, "a", lambda: "rebuilt") == "rebuilt"  # version 1 of "k" was dropped
    assert app_ctx.cached("other", 1, None, lambda: "rebuilt") == "kept"
