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

In one server's memory (``memory://``, the default) the counters live in SharedMemoryStorage
below: one table for all the server's worker processes, so the configured limit is the
server's. (limits' own MemoryStorage is per process, and starts a ``threading.Timer`` to sweep
expired keys after nearly every count: under bench/load.py workers spent 13% of their time
starting threads.) Several servers share counts through Redis.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import math
import mmap
import struct
import tempfile
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


class SharedMemoryStorage(Storage):
    """Fixed-window counters in memory shared by every worker process of one server.

    gunicorn forks its workers from a master that has loaded the app (``preload_app``), so a
    table made here in the master is the same memory in every worker: a limit of 30 Starts an
    hour is 30 for the server, not 30 per worker (three workers let 90 through when each kept its
    own counts). No maintained package offers `limits` counters shared between the processes of
    one server without a separate server (Redis, memcached), and ``make demo`` must need
    nothing but Python: hence this table, kept small.

    The table is an anonymous shared mapping (never a file, never the database) of SLOTS
    fixed-size slots: a 16-byte BLAKE2b digest of the key, its count and when its window ends.
    A key's slot is found by probing from its digest; an expired slot is reused, and when the
    probed slots are all live (more than SLOTS senders within one window), the one whose window
    ends first is taken over: its sender starts counting afresh, i.e. under a flood of distinct
    senders limits err towards letting residents through. Counts stay exact under processes and
    threads: a thread lock within the process, and between processes a POSIX record lock
    (``fcntl.lockf``) on a temporary file made with the table (and unlinked at once). Record
    locks belong to a process, so the kernel releases one whose worker was killed while
    counting: nothing is left held.

    The same counts as limits' MemoryStorage for the fixed-window strategy (a key counts from
    its first hit until ``expiry`` seconds later, then starts again from zero).
    """

    STORAGE_SCHEME = None  # not registered as a scheme: init_app picks it for memory://
    SLOTS = 1 << 16  # 2 MiB
    PROBE = 32
    _SLOT = struct.Struct("<16sqd")  # digest, count, window end (epoch seconds)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._table = mmap.mmap(-1, self.SLOTS * self._SLOT.size, flags=mmap.MAP_SHARED)
        self._threads = threading.Lock()
        lock_file = tempfile.TemporaryFile(prefix="survey-rate-limits-")  # unlinked: only its descriptor
        self._lock_file = lock_file  # kept open (and so the descriptor forked workers inherit)

    @property
    def base_exceptions(self):
        return ValueError

    @contextlib.contextmanager
    def _locked(self):
        with self._threads:
            fcntl.lockf(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._lock_file, fcntl.LOCK_UN)

    def _find(self, key: str, now: float) -> tuple[int, bytes, int, float]:
        """(offset, digest, count, window end) of the key's slot: its own if live, else the slot
        to count it in (an empty or expired one, else the probed slot whose window ends first)."""
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        start = int.from_bytes(digest[:8], "little") % self.SLOTS
        spare = None
        for step in range(self.PROBE):
            offset = ((start + step) % self.SLOTS) * self._SLOT.size
            held, count, ends = self._SLOT.unpack_from(self._table, offset)
            if held == digest and ends > now:
                return offset, digest, count, ends
            if ends <= now:
                if spare is None or spare[1] > now:
                    spare = (offset, 0.0)
                if not ends:  # never used: the key is not further along
                    break
            elif spare is None or (spare[1] > now and ends < spare[1]):
                spare = (offset, ends)
        return spare[0], digest, 0, 0.0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._locked():
            offset, digest, count, ends = self._find(key, now)
            if not count:
                count, ends = 0, now + expiry
            count += amount
            self._SLOT.pack_into(self._table, offset, digest, count, ends)
            return count

    def get(self, key: str) -> int:
        with self._locked():
            return self._find(key, time.time())[2]

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._locked():
            _, _, count, ends = self._find(key, now)
        return ends if count else now

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._locked():
            now = time.time()
            live = sum(1 for slot in range(self.SLOTS)
                       if self._SLOT.unpack_from(self._table, slot * self._SLOT.size)[2] > now)
            self._table[:] = bytes(len(self._table))
            return live

    def clear(self, key: str) -> None:
        with self._locked():
            offset, digest, count, _ = self._find(key, time.time())
            if count:
                self._SLOT.pack_into(self._table, offset, digest, 0, 1.0)  # expired, not empty


def _storage(uri: str) -> Storage:
    if uri.split("://", 1)[0] == "memory":
        return SharedMemoryStorage(uri)
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
