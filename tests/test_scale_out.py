"""Several app servers over one database, as behind a round-robin reverse proxy: real gunicorn
servers (separate processes, nothing shared but the database, GENERATED_DIR and, when configured,
the Redis that holds rate-limit counters), with every request going to the next server in turn.

Needs the Redis server at REDIS_URL (default redis://127.0.0.1:6379/15) for the Redis tests;
without one they are skipped, unless REQUIRE_REDIS=1 (CI sets it), which makes that a failure.
"""
from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path

import pytest

from survey_app.scratch import scratch_database

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
GUNICORN = BENCH.parent / ".venv" / "bin" / "gunicorn"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is installed by make test")


def redis_or_skip() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 (any failure means: no Redis here)
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but {REDIS_URL} does not answer: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return REDIS_URL


def test_residents_submit_through_two_servers_taking_turns(tmp_path):
    from load import run_load

    with scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path, prefix="survey_scale") as url:
        figures = run_load(url, str(tmp_path), seconds=4, residents=6, workers=1, servers=2)
    # Each submission's welcome page, start and page post went to alternating servers: the
    # session (CSRF token) signed by one is accepted by the other, the draft saved through one
    # is found through the other.
    assert figures["submissions"] > 10 and figures["errors"] == 0, figures
    assert figures["missing"] == figures["duplicated"] == figures["partial"] == 0, figures


def load_helpers():
    import load

    return load


@contextlib.contextmanager
def running_servers(tmp_path, count, **environment):
    """``count`` gunicorn servers (one worker each) over one scratch database; their ports."""
    load = load_helpers()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(
            scratch_database(os.environ.get("TEST_DATABASE_URL"), tmp_path, prefix="survey_scale"))
        env = {**load.server_env(url, str(tmp_path)), **environment}
        load.prepare(env)
        ports = [load.free_port() for _ in range(count)]
        for port in ports:
            stack.callback(load.kill_server, load.start_server(env, port, 1))
        yield ports


def starts(ports, attempts: int) -> list[int]:
    """Statuses of ``attempts`` new browsers (one address) pressing Start: each welcome page from
    the first server, each Start on the servers in turn (1, 0, 1, ...)."""
    load = load_helpers()
    statuses = []
    resident = load.Resident(ports)
    for _ in range(attempts):
        resident.cookies = {}
        resident.turn = 0
        _, _, page = resident.request("GET", "/s/load")
        token = load.TOKEN.search(page).group(1)
        resident.turn = len(statuses) + 1
        statuses.append(resident.request("POST", "/s/load/start", {"csrf_token": token})[0])
    return statuses


@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_rate_limits_count_across_servers_when_the_counters_are_in_redis(tmp_path, storage):
    uri = redis_or_skip() if storage == "redis" else "memory://"
    with running_servers(tmp_path, 2, RATELIMIT_STORAGE_URI=uri, START_RATE_LIMIT="3 per hour",
                         RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}") as ports:
        statuses = starts(ports, 5)
    if storage == "redis":
        assert statuses == [303, 303, 303, 429, 429]  # one count for the whole site
    else:  # the control: each server counts its own (3 each), so the limit is not the site's
        assert statuses == [303, 303, 303, 303, 303]


def test_redis_holds_counters_keyed_without_the_address(tmp_path):
    import redis

    uri = redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}"
    with running_servers(tmp_path, 2, RATELIMIT_STORAGE_URI=uri, RATELIMIT_KEY_PREFIX=prefix) as ports:
        starts(ports, 2)
    connection = redis.Redis.from_url(uri)
    keys = [key.decode() for key in connection.scan_iter(f"*{prefix}*")]
    try:
        assert keys, "the counters are in Redis"
        assert not any("127.0.0.1" in key for key in keys), keys
    finally:
        if keys:
            connection.delete(*keys)
