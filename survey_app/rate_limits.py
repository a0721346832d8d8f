"""Rate limits on residents' requests: so many starts, code attempts and page posts per sender.

Counted by `limits` (the library Flask-Limiter is built on) with its fixed-window strategy, in
this process's memory or, with several app servers, in Redis (``RATELIMIT_STORAGE_URI``).
A sender is the keyed hash of ``extensions.anonymous_client_key``, never the address.

Flask-Limiter did this until its per-request work became the largest single cost of a
resident's submission: its before-request hook runs for every request of the site, and its
decorator resolves on each call which of its kinds of limit apply (default, application,
blueprint, decorated, meta, fallback). Measured in process over the load benchmark's flow
(welcome page, Start, page posted; SQLite): 4.2 ms per submission with it, 3.6 ms with it
disabled; this module's one counter per limited request costs about 0.1 ms. The settings
keep their Flask-Limiter names: ``RATELIMIT_STORAGE_URI``, ``RATELIMIT_KEY_PREFIX``,
``RATELIMIT_ENABLED``.

When the counter store cannot be reached (Redis down), requests are let through and the
failure logged: a survey should rather take a few extra attempts than refuse residents'
answers while the cache is restarted.

In one server's memory (``memory://``, the default) the counters live in ProcessMemoryStorage
below, not in limits' MemoryStorage: that one starts a ``threading.Timer`` to sweep expired
keys 10 ms after a count whenever the last timer has finished, so under load nearly every
limited request started a thread, and ``Thread.start`` waits until the new thread has been
scheduled. Sampled under bench/load.py (PostgreSQL), workers spent 13% of their time there.
"""
from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from .extensions import anonymous_client_key

log = logging.getLogger(__name__)


@dataclass
class _State:
    storage: Storage
    limiter: FixedWindowRateLimiter
    prefix: str
    enabled: bool


class ProcessMemoryStorage(Storage):
    """Fixed-window counters in this process's memory, with no thread of its own.

    The same counts as limits' MemoryStorage for the fixed-window strategy (a key counts from
    its first hit until ``expiry`` seconds later, then starts again from zero), but an expired
    key is dropped when it is next counted or read, and the whole table is swept in the
    request that comes after SWEEP_SECONDS, so that keys never seen again do not pile up.
    One lock keeps it right under threaded workers.
    """

    STORAGE_SCHEME = None  # not registered as a scheme: init_app picks it for memory://
    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.storage: dict[str, int] = {}
        self.expirations: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = time.time() + self.SWEEP_SECONDS

    @property
    def base_exceptions(self):
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            if self.expirations.get(key, 0.0) <= now:
                self.storage[key] = amount
                self.expirations[key] = now + expiry
            else:
                self.storage[key] += amount
            return self.storage[key]

    def get(self, key: str) -> int:
        with self._lock:
            if self.expirations.get(key, 0.0) <= time.time():
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                return 0
            return self.storage[key]

    def get_expiry(self, key: str) -> float:
        return self.expirations.get(key, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            count = len(self.storage)
            self.storage.clear()
            self.expirations.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, at in self.expirations.items() if at <= now]:
            del self.storage[key], self.expirations[key]
        self._next_sweep = now + self.SWEEP_SECONDS


def _storage(uri: str) -> Storage:
    if uri.split("://", 1)[0] == "memory":
        return ProcessMemoryStorage(uri)
    return storage_from_string(uri)


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    """'30 per hour', or several separated by ';' ('5 per minute; 30 per hour')."""
    return tuple(parse_many(text))


class RateLimits:
    def init_app(self, app) -> None:
        storage = _storage(app.config["RATELIMIT_STORAGE_URI"])
        app.extensions["rate_limits"] = _State(
            storage=storage, limiter=FixedWindowRateLimiter(storage),
            prefix=app.config.get("RATELIMIT_KEY_PREFIX") or "survey",
            enabled=app.config.get("RATELIMIT_ENABLED", True))
        for key in ("START_RATE_LIMIT", "PAGE_RATE_LIMIT", "CODE_RATE_LIMIT"):
            if app.config.get(key):
                _parsed(app.config[key])  # a malformed setting stops the app at start, not a resident

    @staticmethod
    def state(app=None) -> _State:
        return (app or current_app).extensions["rate_limits"]

    def limit(self, setting: str, methods: tuple[str, ...] | None = None):
        """Count each call of the view (of ``methods`` only, if given) against the limit in the
        config value ``setting``; past it, 429 with Retry-After, and the view does not run."""

        def decorate(view):
            @functools.wraps(view)
            def limited(*args, **kwargs):
                if methods is None or request.method in methods:
                    self._count(setting)
                return view(*args, **kwargs)

            return limited

        return decorate

    def _count(self, setting: str) -> None:
        state = self.state()
        if not state.enabled:
            return
        identifiers = (state.prefix, request.endpoint or "", anonymous_client_key())
        try:
            retry_after = _hit(state.limiter, _parsed(current_app.config[setting]), identifiers)
        except Exception:  # the counter store is unreachable: let the resident through
            log.warning("rate-limit counters unreachable; %s not limited", request.endpoint, exc_info=True)
            return
        if retry_after is not None:
            raise TooManyRequests(retry_after=retry_after)  # errors.py renders it, with Retry-After


def _hit(limiter: FixedWindowRateLimiter, items, identifiers) -> int | None:
    """Count one request against each limit; None if within all, else seconds until allowed."""
    for item in items:
        if not limiter.hit(item, *identifiers):
            reset_at = limiter.get_window_stats(item, *identifiers).reset_time
            return max(1, math.ceil(reset_at - time.time()))
    return None


rate_limits = RateLimits()
