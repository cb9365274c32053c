"""A forked child process and its pipe: the one way calibrate runs Python work beside itself.

Two parts of the package hand work to a second process, forked so that it starts at once
with everything this process knows: the import's check stage
(:mod:`calibrate.store.checking`) and the report's model sections
(:mod:`calibrate.report.worker`). Both go through :class:`Child`, which owns what they
share: whether this process may fork (:func:`may_fork`), starting the child with its end of
a pipe, carrying an exception back (:func:`portable` in the child, :func:`rebuilt` here),
telling a child that died from one that answered (:class:`Lost`), and stopping it.

Messages are tuples whose first element names their kind. The kind ``"error"`` is this
module's: an exception raised by the child's work, sent by the child and raised again by
:meth:`Child.recv`.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import traceback
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable

#: an exception that cannot cross is sent as the end of its traceback, at most this long
TEXT_CHARS = 4000


def may_fork() -> bool:
    """Whether this process can fork a child: the system has the ``fork`` start method and
    the process is not daemonic (a daemonic one, such as a ``multiprocessing.Pool`` worker,
    may not have children)."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


class Lost(RuntimeError):
    """The child ended without answering (killed, out of memory, ``os._exit``)."""

    def __init__(self, exitcode: int | None):
        super().__init__(f"the child process ended unexpectedly (exit code {exitcode})")
        self.exitcode = exitcode


class Child:
    """``target(conn, *args)`` in a forked process, started at once; ``conn`` is the child's
    end of a pipe, this object holds the other. The pipe runs both ways with ``duplex``,
    else from the child to here only. An exception that escapes ``target`` is sent as an
    ``"error"`` message and raised by :meth:`recv`; one that cannot be carried is raised as
    ``unportable(text)``, the text its traceback. A message whose kind is in ``last`` is
    the child's last word, as its error is: :meth:`close` then waits for the child to end
    rather than stopping it."""

    def __init__(self, target: Callable, *args, duplex: bool = False, last: tuple[str, ...] = (),
                 name: str | None = None, daemon: bool | None = None,
                 unportable: Callable[[str], BaseException] = RuntimeError):
        ctx = multiprocessing.get_context("fork")
        here, there = ctx.Pipe() if duplex else ctx.Pipe(duplex=False)  # one-way: (receiving, sending)
        self._conn, self._unportable, self._last = here, unportable, last
        self.ended = False  # the last word came (or the child is gone)
        self._sender: threading.Thread | None = None  # a message still being written (send(..., wait=False))
        self.process = ctx.Process(target=_main, args=(target, there, here, args), name=name, daemon=daemon)
        self.process.start()
        there.close()  # the child's end: a child that dies leaves the pipe at its end (EOFError)

    def send(self, message: Any, *, wait: bool = True) -> bool:
        """Send ``message`` to the child; False when it is gone (its answer, or :class:`Lost`,
        comes from :meth:`recv`). With ``wait=False`` the message is pickled here and
        written by a thread, so a large one does not hold this process until the child
        reads it (a pipe holds 64 KiB; a child still busy would keep the writer waiting);
        the next :meth:`send`, :meth:`close` or :meth:`stop` waits for that write."""
        self._written()
        if not wait:
            data = ForkingPickler.dumps(message)  # now: the message's objects may change after
            self._sender = threading.Thread(target=self._write, args=(data,), daemon=True, name="calibrate-send")
            self._sender.start()
            return True
        try:
            self._conn.send(message)
        except (EOFError, OSError):  # BrokenPipeError, ConnectionResetError, a closed pipe
            return False
        return True

    def _write(self, data) -> None:
        try:
            self._conn.send_bytes(data)  # what Connection.send writes for the pickled message
        except (EOFError, OSError):  # the child is gone: recv() says so
            pass

    def _written(self) -> None:
        """Wait for a message that a thread is still writing."""
        if self._sender is not None:
            self._sender.join()
            self._sender = None

    def recv(self) -> Any:
        """The child's next message; its error raised; :class:`Lost` (once the process has
        ended, with its exit code) when it ended without one."""
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            self.ended = True
            self.process.join()
            raise Lost(self.process.exitcode) from None
        if message[0] == "error":
            self.ended = True
            raise rebuilt(message[1], self._unportable)
        self.ended = message[0] in self._last
        return message

    def close(self) -> None:
        """Close the pipe; wait for the child to end after its last word, else :meth:`stop` it
        (this side stopped listening early, on an error of its own)."""
        if not self.ended:
            return self.stop()
        self._written()
        self._conn.close()
        self.process.join()

    def stop(self) -> None:
        """End the child whatever it is doing (its work is not wanted) and close the pipe."""
        if self._sender is None:
            self._conn.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        if self._sender is not None:  # its write ends with the child (a broken pipe); then the pipe is closed
            self._written()
            self._conn.close()


def _main(target: Callable, conn, other, args: tuple) -> None:  # pragma: no cover - runs in the child
    """The child: close the parent's end, run ``target``, send what it raised. The process
    ends through ``os._exit`` (multiprocessing's way after a fork), so nothing the parent
    holds — a database connection above all — is closed or flushed here."""
    other.close()
    try:
        target(conn, *args)
    except BaseException as exc:  # noqa: BLE001 - every error goes to the parent, which raises it
        try:
            conn.send(("error", portable(exc)))
        except OSError:
            pass  # the parent stopped listening: nobody is left to tell
    finally:
        conn.close()


def portable(exc: BaseException):
    """How ``exc`` crosses the pipe, one rule for every child: the exception itself where
    pickle rebuilds it; else (class, args, attributes), for a class whose constructor takes
    other arguments than its ``args`` (keyword-only ones, say); else the end of its
    traceback as text. :func:`rebuilt` is the other half."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any failure to rebuild means: not as itself
        pass
    parts = (type(exc), exc.args, dict(exc.__dict__))
    try:
        pickle.dumps(parts)
        return parts
    except Exception:  # noqa: BLE001 - an exception that cannot travel is sent as text
        return "".join(traceback.format_exception(exc))[-TEXT_CHARS:]


def rebuilt(payload, unportable: Callable[[str], BaseException] = RuntimeError) -> BaseException:
    """The exception :func:`portable` sent; ``unportable(text)`` for one sent as text."""
    if isinstance(payload, BaseException):
        return payload
    if isinstance(payload, str):
        return unportable(payload)
    cls, args, attrs = payload
    try:
        exc = cls.__new__(cls, *args)  # OSError's errno and strerror are set here
    except TypeError:
        exc = cls.__new__(cls)
    BaseException.__init__(exc, *args)
    exc.__dict__.update(attrs)
    return exc
