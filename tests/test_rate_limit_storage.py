"""The in-process rate-limit counters (rate_limits.ProcessMemoryStorage) against limits' own
MemoryStorage: the same verdicts and reset times for the same hits, without a thread per hit."""
from __future__ import annotations

import random
import threading

import pytest
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from survey_app import rate_limits
from survey_app.rate_limits import ProcessMemoryStorage


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
    ours, theirs = ProcessMemoryStorage(), MemoryStorage()
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
    limiter = FixedWindowRateLimiter(ProcessMemoryStorage())
    item = parse("2 per minute")
    assert [limiter.hit(item, "k") for _ in range(3)] == [True, True, False]
    clock.now += 59.9
    assert not limiter.hit(item, "k")  # a fixed window: still the first minute
    clock.now += 0.2
    assert [limiter.hit(item, "k") for _ in range(3)] == [True, True, False]


def test_counting_starts_no_thread(clock):
    limiter = FixedWindowRateLimiter(ProcessMemoryStorage())
    before = threading.active_count()
    for i in range(500):
        clock.now += 0.02
        limiter.hit(parse("1000 per hour"), str(i % 7))
    assert threading.active_count() == before


def test_keys_never_seen_again_are_swept(clock):
    storage = ProcessMemoryStorage()
    for sender in range(100):
        storage.incr(f"one-visit-{sender}", 60)
    storage.incr("regular", 3600)
    clock.now += ProcessMemoryStorage.SWEEP_SECONDS + 1
    storage.incr("newcomer", 60)  # the first count after the sweep time sweeps
    assert set(storage.storage) == set(storage.expirations) == {"regular", "newcomer"}
    assert storage.get("regular") == 1 and storage.get("one-visit-3") == 0


def test_counts_from_many_threads_are_not_lost():
    storage = ProcessMemoryStorage()

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
    assert isinstance(rate_limits._storage("memory://"), ProcessMemoryStorage)
    assert type(rate_limits._storage("redis://127.0.0.1:6379/15")).__name__ == "RedisStorage"
