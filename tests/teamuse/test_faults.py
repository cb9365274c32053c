"""Faults: a kernel killed mid-save, a PostgreSQL restart under load, an unreachable server.

Each save writes every assessable item of the case in one transaction, so a save is
stored whole or not at all; a save the app acknowledged is never lost.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from calibrate.errors import StoreError
from calibrate.store import Store
from calibrate.store.engine import make_engine, workspace_url
from calibrate.store.retry import DatabaseUnavailableError, RetryPolicy, is_transient, run_with_retry
from teamuse_support import CASES, SESSION, check_saves, plan, seed

SAVER = Path(__file__).with_name("saver.py")


def _url(backend, tmp_path, request) -> str:
    if backend == "sqlite":
        return workspace_url(tmp_path / "ws")
    return request.getfixturevalue("pg_url")


def _run_and_kill(url: str, rater: str, start: int, rng: random.Random) -> tuple[list[int], int | None]:
    """Start a saver, let it acknowledge a few saves, SIGKILL it inside a later save.

    Returns the acknowledged save numbers and the save that was in flight."""
    proc = subprocess.Popen(
        [sys.executable, str(SAVER), url, rater, CASES[0], str(start), "200"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )
    acked: list[int] = []
    in_flight = None
    kill_after = rng.randint(1, 6)  # acknowledged saves before the kill
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            word, *rest = line.split()
            if word == "SAVING":
                in_flight = int(rest[0])
                if len(acked) >= kill_after:
                    time.sleep(rng.uniform(0, 0.04))  # somewhere inside the transaction (a save takes ~20-60 ms)
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            elif word == "ACK":
                acked.append(int(rest[0]))
                in_flight = None
            if time.monotonic() > deadline:
                break
        # lines printed before the kill landed are still in the pipe
        for line in proc.stdout:
            word, *rest = line.split()
            if word == "SAVING":
                in_flight = int(rest[0])
            elif word == "ACK":
                acked.append(int(rest[0]))
                in_flight = None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"the saver ended on its own: {err[-2000:]}"
    return acked, in_flight


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_kernel_killed_mid_save_loses_nothing_acknowledged(backend, tmp_path, request):
    url = _url(backend, tmp_path, request)
    with Store.open(db_url=url) as st:
        st.note_pseudonymiser()  # the pseudonym key exists before any kernel starts
        seed(st, ["B01"])
    rng = random.Random(f"kill-{backend}-{os.getpid()}")
    values = plan("B01", 200)
    acked_all: list[int] = []
    start = 0
    for _ in range(3):  # three kernels in a row, each killed at a random moment
        acked, in_flight = _run_and_kill(url, "B01", start, rng)
        assert acked, "the saver was killed before acknowledging anything"
        with Store.open(db_url=url) as st:
            # the killed save is either stored whole or not at all
            stored = len(_batches(st))
            check_saves(st, "B01", acked_all + acked, values, in_flight=in_flight)
        acked_all += acked
        if stored > len(acked_all):  # the killed save had committed, unacknowledged
            acked_all.append(in_flight)
        start = max(acked_all) + 1  # the next kernel goes on from there


def _batches(st):
    from teamuse_support import batches

    return batches(st, "B01")


# -------------------------------------------------------------- PostgreSQL restart
@pytest.mark.postgres
def test_postgres_restart_under_load_retries_and_loses_nothing(pg_server, pg_url, caplog):
    raters = [f"B{i:02d}" for i in range(1, 7)]
    with Store.open(db_url=pg_url) as st:
        st.note_pseudonymiser()
        seed(st, raters)
    saves = 25
    values = {r: plan(r, saves) for r in raters}
    acked = {r: [] for r in raters}
    errors: list[str] = []
    retries: list[str] = []
    started = threading.Barrier(len(raters) + 1)

    def assessor(rater: str, k: int) -> None:
        try:
            store = Store.open(db_url=pg_url)
            store.retry_policy = RetryPolicy(attempts=40, base_delay=0.05, max_delay=1.0, deadline=60)
            store.on_retry = lambda attempt, delay, exc: retries.append(f"{rater}: attempt {attempt}: {exc.__class__.__name__}")
            started.wait(timeout=60)
        except Exception as exc:
            errors.append(f"{rater}: could not start: {exc}")
            started.abort()
            return
        try:
            for s in range(saves):
                store.save_judgements(SESSION, CASES[k % 2], rater, values[rater][s])
                acked[rater].append(s)
                time.sleep(0.03)
        except Exception as exc:  # recorded, the test fails below
            errors.append(f"{rater}: {type(exc).__name__}: {exc}")
        finally:
            store.close()

    threads = [threading.Thread(target=assessor, args=(r, k)) for k, r in enumerate(raters)]
    with caplog.at_level(logging.WARNING, logger="calibrate.store"):
        for th in threads:
            th.start()
        started.wait(timeout=60)
        deadline = time.monotonic() + 60
        while sum(map(len, acked.values())) < 12 and not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        pg_server.restart()  # fast shutdown: open connections are terminated
        for th in threads:
            th.join(timeout=120)
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    assert retries, "no save ran into the restart"
    msgs = [r.getMessage() for r in caplog.records if r.name == "calibrate.store"]
    assert msgs and all("is not reachable" in m and "again in" in m and "attempt" in m for m in msgs)
    with Store.open(db_url=pg_url) as st:
        for r in raters:
            assert acked[r] == list(range(saves))
            check_saves(st, r, acked[r], values[r])


# ------------------------------------------------------------------ giving up
def test_unreachable_database_gives_a_clear_message_after_retrying(tmp_path):
    import socket

    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://assessor@127.0.0.1:{port}/kalibreren"
    store = Store(make_engine(url), url=url)
    store.retry_policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, deadline=5)
    seen = []
    store.on_retry = lambda attempt, delay, exc: seen.append(attempt)
    with pytest.raises(DatabaseUnavailableError) as info:
        store.save_judgements(SESSION, "C01", "B01", {"besluit": "go"})
    msg = str(info.value)
    assert f"127.0.0.1:{port}/kalibreren" in msg and "not reachable" in msg
    assert "tried 3 times" in msg and "nothing of it was saved" in msg
    assert seen == [1, 2] and isinstance(info.value, StoreError)
    store.close()


def test_only_transient_errors_are_retried():
    calls = []

    def bad_input():
        calls.append(1)
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(sa.exc.IntegrityError):
        run_with_retry(bad_input, policy=RetryPolicy(attempts=5, base_delay=0.001))
    assert calls == [1]

    refused = sa.exc.OperationalError("connect", {}, psycopg.OperationalError("connection refused"))
    shutdown = sa.exc.OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection"))
    locked = sa.exc.OperationalError("BEGIN IMMEDIATE", {}, __import__("sqlite3").OperationalError("database is locked"))
    no_table = sa.exc.OperationalError("SELECT", {}, __import__("sqlite3").OperationalError("no such table: x"))
    denied = sa.exc.ProgrammingError("UPDATE", {}, psycopg.errors.InsufficientPrivilege("permission denied"))
    assert is_transient(refused) and is_transient(shutdown) and is_transient(locked)
    assert not is_transient(no_table) and not is_transient(denied)

    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise refused
        return "saved"

    assert run_with_retry(flaky, policy=RetryPolicy(attempts=5, base_delay=0.001)) == "saved"
    assert len(attempts) == 3
