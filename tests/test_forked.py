"""calibrate.forked: a forked child, its pipe, its errors carried back, a lost child, a stop."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from calibrate import forked
from calibrate.errors import InputError, StoreError

pytestmark = pytest.mark.skipif(not forked.may_fork(), reason="needs the fork start method")


def _raises(exc):
    def target(_conn):
        raise exc
    return target


def _answer(conn, *values):
    for v in values:
        conn.send(("value", v))
    conn.send(("done", len(values)))


def test_messages_cross_and_the_child_ends_after_its_last_word():
    child = forked.Child(_answer, 1, "twee", last=("done",))
    assert [child.recv() for _ in range(3)] == [("value", 1), ("value", "twee"), ("done", 2)]
    assert child.ended
    child.close()  # waits: the child ends by itself
    assert child.process.exitcode == 0
    assert multiprocessing.active_children() == []


def test_an_input_error_raised_in_the_child_arrives_with_its_keyword_attributes():
    child = forked.Child(_raises(InputError("unknown value 'misschien'", location="scores.csv, row 5, column 'value'",
                                            hint="Use go or no go.")))
    with pytest.raises(InputError) as exc:
        child.recv()
    child.close()
    assert exc.value.location == "scores.csv, row 5, column 'value'" and exc.value.hint == "Use go or no go."
    assert str(exc.value) == "scores.csv, row 5, column 'value': unknown value 'misschien' Use go or no go."
    assert child.process.exitcode == 0


class _KeywordOnly(Exception):
    """A constructor plain pickling cannot call again (``code`` is required, keyword-only)."""

    def __init__(self, message, *, code):
        super().__init__(message)
        self.code = code


class _Unpicklable(Exception):
    def __init__(self):
        super().__init__("odd")
        self.handle = lambda: None  # cannot be pickled


def test_each_kind_of_exception_crosses_by_the_one_rule():
    err = OSError(2, "No such file or directory", "missing.csv")
    assert forked.portable(err) is err  # pickle rebuilds it as itself: errno and file name kept
    back = forked.rebuilt(forked.portable(err))
    assert (back.errno, back.filename) == (2, "missing.csv")
    parts = forked.portable(_KeywordOnly("a bug", code=7))  # as (class, args, attributes)
    assert parts == (_KeywordOnly, ("a bug",), {"code": 7})
    back = forked.rebuilt(parts)
    assert type(back) is _KeywordOnly and back.args == ("a bug",) and back.code == 7
    text = forked.portable(_Unpicklable())  # as text: its traceback
    assert isinstance(text, str) and text.endswith("_Unpicklable: odd\n")
    assert isinstance(forked.rebuilt(text), RuntimeError)
    assert isinstance(forked.rebuilt(text, StoreError), StoreError)


def test_a_keyword_only_exception_raised_in_the_child_arrives_whole():
    child = forked.Child(_raises(_KeywordOnly("a bug", code=7)), duplex=True)
    with pytest.raises(_KeywordOnly, match="a bug") as exc:
        child.recv()
    child.close()
    assert exc.value.code == 7


def test_an_unpicklable_exception_arrives_as_text():
    child = forked.Child(_raises(_Unpicklable()))
    with pytest.raises(RuntimeError, match="_Unpicklable: odd"):
        child.recv()
    child.close()
    child = forked.Child(_raises(_Unpicklable()), unportable=lambda text: StoreError(f"failed.\n{text}"))
    with pytest.raises(StoreError, match=r"(?s)^failed\..*_Unpicklable: odd"):
        child.recv()
    child.close()


def _first_then_wait(conn):
    conn.send(("chunk", 1))
    time.sleep(60)


def test_a_child_killed_midway_is_reported_as_lost():
    child = forked.Child(_first_then_wait)
    assert child.recv() == ("chunk", 1)
    os.kill(child.process.pid, signal.SIGKILL)
    with pytest.raises(forked.Lost) as exc:
        child.recv()
    assert exc.value.exitcode == -signal.SIGKILL and "exit code -9" in str(exc.value)
    assert child.ended and not child.process.is_alive()
    child.close()

    def exits(conn):
        conn.send(("chunk", 1))
        os._exit(3)

    child = forked.Child(exits, duplex=True)
    assert child.recv() == ("chunk", 1)
    with pytest.raises(forked.Lost) as exc:
        child.recv()
    assert exc.value.exitcode == 3
    assert child.send(("go",)) is False  # nobody to send to: said, not raised
    child.close()


def _listen(conn):
    while True:
        conn.recv()


@pytest.mark.parametrize("way", ["stop", "close before its last word"])
def test_stop_leaves_no_process_alive(way):
    for target in (_first_then_wait, _listen):
        child = forked.Child(target, duplex=True)
        assert child.process.is_alive()
        child.stop() if way == "stop" else child.close()
        assert not child.process.is_alive() and child.process.exitcode == -signal.SIGTERM
        child.stop()  # twice: nothing more to do
    assert multiprocessing.active_children() == []


def test_a_daemonic_process_may_not_fork():
    assert forked.may_fork()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(forked.may_fork) is False


def _slow_reader(conn, pause):
    time.sleep(pause)  # busy (importing, say) before it reads
    message = conn.recv()
    conn.send(("done", len(message[1]), message[1][:3], message[1][-3:]))


def test_a_large_message_sent_without_waiting_frees_the_sender_and_arrives_whole():
    """send(wait=False) returns before a child still busy reads 8 MB (a pipe holds 64 KiB:
    a plain send waits there); what it sent is what was pickled then, not a later change."""
    payload = bytearray(range(256)) * (8 * 4096)
    child = forked.Child(_slow_reader, 1.0, duplex=True, last=("done",))
    t0 = time.monotonic()
    assert child.send(("go", payload), wait=False)
    assert time.monotonic() - t0 < 0.5  # the plain send would wait ~1 s for the reader
    payload[:3] = b"xyz"  # after the send: not in the message
    assert child.recv() == ("done", 8 * 1024 * 1024, bytearray(b"\x00\x01\x02"), bytearray(b"\xfd\xfe\xff"))
    child.close()
    assert child.process.exitcode == 0


def test_stopping_a_child_that_never_reads_ends_the_unfinished_write():
    child = forked.Child(_slow_reader, 60.0, duplex=True, last=("done",))
    child.send(("go", b"x" * (4 * 1024 * 1024)), wait=False)
    t0 = time.monotonic()
    child.stop()
    assert time.monotonic() - t0 < 10 and not child.process.is_alive()
    assert child._sender is None  # the writing thread has ended with the child
