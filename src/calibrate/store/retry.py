"""Retrying a whole write transaction when the database connection drops or is busy.

A save is one transaction: when the server restarts, the network drops or SQLite is
busy, the transaction either committed or left nothing behind, so running it again is
safe as long as the write is idempotent (``Store.save_judgements`` and the imports skip
rows equal to the current judgement, so a retry after an unacknowledged commit appends
nothing twice). Anything else (bad input, a constraint, a missing privilege) is raised at
once: a refused privilege (SQLSTATE 42501, e.g. a row-level security policy) as an
:class:`~calibrate.errors.AccessError`; from a :func:`retrying` store method any other
database error as a :class:`WriteFailedError` (a :class:`~calibrate.errors.StoreError`)
that says nothing was saved — never the driver's own exception.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import sqlalchemy as sa

from ..errors import AccessError, StoreError

log = logging.getLogger("calibrate.store")

T = TypeVar("T")

#: SQLSTATE codes (and classes) that mean "the connection or the server went away for a
#: moment", or "this transaction lost a race": the whole transaction may be run again.
TRANSIENT_SQLSTATES = frozenset({
    "57P01",  # admin_shutdown: the server is shutting down or restarting
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: the server is starting up
    "53300",  # too_many_connections
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
})
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08"})  # connection exceptions

_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try again: ``attempts`` tries in all, waiting
    ``base_delay * 2**n`` seconds (capped at ``max_delay``, with jitter) in between, and
    never more than ``deadline`` seconds from the first try."""

    attempts: int = 10
    base_delay: float = 0.1
    max_delay: float = 3.0
    deadline: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        d = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return d * (0.5 + random.random() / 2)


DEFAULT_POLICY = RetryPolicy()


class DatabaseUnavailableError(StoreError):
    """The database stayed unreachable after every retry; nothing of this write was saved."""

    def __init__(self, message: str, *, attempts: int, elapsed: float, cause: BaseException | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.elapsed = elapsed
        self.cause = cause


class WriteFailedError(StoreError):
    """The database refused a write for a reason that a retry at once would not cure (a
    constraint, a full disk, a damaged file); nothing of this write was saved."""

    def __init__(self, message: str, *, cause: BaseException | None = None):
        super().__init__(message)
        self.cause = cause


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a dropped connection, a restarting server or a busy database —
    an error after which the whole transaction may simply be run again."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
    else:
        orig = exc
    if orig is None:
        return False
    module = type(orig).__module__ or ""
    if module.startswith("sqlite3"):
        return any(s in str(orig).lower() for s in _SQLITE_BUSY)
    if module.startswith("psycopg"):
        import psycopg

        state = getattr(orig, "sqlstate", None)
        if state is None:
            # raised by the client itself: connection refused, closed or lost
            return isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError))
        return state in TRANSIENT_SQLSTATES or state[:2] in TRANSIENT_SQLSTATE_CLASSES
    return False


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    return text[:200] or type(orig).__name__


def run_with_retry(
    fn: Callable[[], T],
    *,
    what: str = "the write",
    where: str = "the database",
    policy: RetryPolicy = DEFAULT_POLICY,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    """Run ``fn`` (one whole write transaction) and run it again on a transient error.

    ``on_retry(attempt, delay, exc)`` is called before each wait (the app can show
    "verbinding verbroken, opnieuw proberen…"); every retry is also logged as a warning on
    the ``calibrate.store`` logger. After the last try a :class:`DatabaseUnavailableError`
    says what was tried and what to do; ``fn`` must therefore be safe to run twice.
    """
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DBAPIError) as exc:
            if not is_transient(exc):
                if getattr(getattr(exc, "orig", None), "sqlstate", None) == "42501":
                    raise AccessError(
                        f"{what} was refused by {where}: {_reason(exc)}. An assessor's database role may only "
                        "add their own judgements and read what the session allows."
                    ) from exc
                raise
            elapsed = time.monotonic() - start
            delay = policy.delay(attempt)
            if attempt >= policy.attempts or elapsed + delay > policy.deadline:
                raise DatabaseUnavailableError(
                    f"{where} is not reachable ({_reason(exc)}); {what} was tried {attempt} times over "
                    f"{elapsed:.1f} s and nothing of it was saved. Keep your work open and try again when "
                    "the database is back; ask the facilitator to check the server if this persists.",
                    attempts=attempt, elapsed=elapsed, cause=exc,
                ) from exc
            log.warning(
                "%s is not reachable (%s); trying %s again in %.1f s (attempt %d of %d).",
                where, _reason(exc), what, delay, attempt + 1, policy.attempts,
            )
            if on_retry is not None:
                on_retry(attempt, delay, exc)
            time.sleep(delay)


def retrying(what: str):
    """Decorate a :class:`~calibrate.store.Store` method that runs one idempotent write
    transaction so that it is retried with the store's ``retry_policy`` and ``on_retry``
    (messages name the store by its ``where``)."""

    def deco(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return run_with_retry(
                    lambda: method(self, *args, **kwargs),
                    what=what,
                    where=self.where,
                    policy=getattr(self, "retry_policy", DEFAULT_POLICY),
                    on_retry=getattr(self, "on_retry", None),
                )
            except sa.exc.DBAPIError as exc:
                # any other refusal (a constraint, a full disk, a damaged file): said, never silent
                raise WriteFailedError(
                    f"{what} failed in {self.where} ({_reason(exc)}); nothing of it was saved. Keep your work "
                    "open and try again; if it fails again, ask the facilitator to check the database.",
                    cause=exc,
                ) from exc

        return wrapper

    return deco
