"""One server's rate-limit counters (rate_limits.SharedMemoryStorage) against limits' own
MemoryStorage: the same verdicts and reset times for the same hits, without a thread per hit,
and one count for all the server's worker processes (replayed against gunicorn)."""
from __future__ import annotations

import random
import threading

import pytest
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from survey_app import rate_limits
from survey_app.rate_limits import SharedMemoryStorage


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    # Both storages and the limits strategies read time.time() through the time module.
    monkeypatch.setattr("time.time", clock)
    return clock


def test_same_verdicts_and_reset_times_as_limits_memory_storage(clock):
    ours, theirs = SharedMemoryStorage(), MemoryStorage()
    limiters = FixedWindowRateLimiter(ours), FixedWindowRateLimiter(theirs)
    items = [parse("3 per minute"), parse("5 per hour")]
    senders = ["a", "b", "c"]
    rng = random.Random(7)
    verdicts = []
    for _ in range(400):
        clock.now += rng.choice([0.0, 0.5, 3.0, 20.0, 61.0, 900.0])
        item, sender = rng.choice(items), rng.choice(senders)
        mine, reference = (limiter.hit(item, "survey", "respond.start", sender) for limiter in limiters)
        assert mine == reference
        stats = [limiter.get_window_stats(item, "survey", "respond.start", sender) for limiter in limiters]
        assert stats[0] == stats[1]
        verdicts.append(mine)
    assert True in verdicts and False in verdicts  # the sequence reached the limits and came back
    theirs.timer.cancel()


def test_a_window_starts_again_after_its_expiry(clock):
    limiter = FixedWindowRateLimiter(SharedMemoryStorage())
    item = parse("2 per minute")
    assert [limiter.hit(item, "k") for _ in range(3)] == [True, True, False]
    clock.now += 59.9
    assert not limiter.hit(item, "k")  # a fixed window: still the first minute
    clock.now += 0.2
    assert [limiter.hit(item, "k") for _ in range(3)] == [True, True, False]


def test_counting_starts_no_thread(clock, monkeypatch):
    limiter = FixedWindowRateLimiter(SharedMemoryStorage())
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    for i in range(500):
        clock.now += 0.02
        limiter.hit(parse("1000 per hour"), str(i % 7))
    assert started == []


def test_expired_slots_are_reused_and_a_full_table_gives_way_to_new_senders(clock, monkeypatch):
    monkeypatch.setattr(SharedMemoryStorage, "SLOTS", 8)
    monkeypatch.setattr(SharedMemoryStorage, "PROBE", 8)
    storage = SharedMemoryStorage()
    for sender in range(8):
        storage.incr(f"one-visit-{sender}", 60)
    storage.incr("one-visit-0", 60)
    assert storage.get("one-visit-0") == 2
    clock.now += 61
    for sender in range(8):  # all expired: their slots take the next senders
        assert storage.incr(f"next-{sender}", 3600 - sender) == 1
    assert storage.get("one-visit-0") == 0
    storage.incr("next-7", 60)
    assert storage.get("next-7") == 2
    # The table is full of live windows: a new sender takes the slot whose window ends first
    # (next-7's, ending in 3593 s), and that sender starts afresh.
    assert storage.incr("newcomer", 60) == 1
    assert storage.get("newcomer") == 1 and storage.get("next-7") == 0 and storage.get("next-0") == 1


def test_counts_from_several_processes_add_up():
    import multiprocessing

    storage = SharedMemoryStorage()

    def count():
        for _ in range(1000):
            storage.incr("shared", 3600)

    workers = [multiprocessing.get_context("fork").Process(target=count) for _ in range(3)]
    for worker in workers:
        worker.start()
    count()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert storage.get("shared") == 4000


def test_a_worker_killed_while_counting_leaves_no_lock_held():
    import multiprocessing
    import os
    import signal

    storage = SharedMemoryStorage()

    def killed_while_counting():
        with storage._locked():
            os.kill(os.getpid(), signal.SIGKILL)

    worker = multiprocessing.get_context("fork").Process(target=killed_while_counting)
    worker.start()
    worker.join(timeout=30)
    assert worker.exitcode == -signal.SIGKILL
    outcome = []
    counter = threading.Thread(target=lambda: outcome.append(storage.incr("after", 60)), daemon=True)
    counter.start()
    counter.join(timeout=10)
    assert outcome == [1]  # not blocked: the kernel released the dead worker's lock


def test_counts_from_many_threads_are_not_lost():
    storage = SharedMemoryStorage()

    def count():
        for _ in range(2000):
            storage.incr("shared", 3600)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.get("shared") == 8000


def test_the_app_counts_in_process_memory_by_default_and_in_redis_when_told():
    assert isinstance(rate_limits._storage("memory://"), SharedMemoryStorage)
    assert type(rate_limits._storage("redis://127.0.0.1:6379/15")).__name__ == "RedisStorage"
