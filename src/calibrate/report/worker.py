"""The report's worker: the model sections computed in a second process meanwhile.

:func:`background` gives a :class:`_Pending` job, run in a forked worker process
(:class:`calibrate.forked.Child`) when :func:`use_worker` says so, else in this process
when its result is asked for. The worker imports the models' libraries while the store is
read, gets its arguments (``("go", args)``) and computes. Work either process may do (the
drift trajectories, the verdicts against the phases) is a **pool** shared at once
(:meth:`_Pending.share`, ``("pool", tasks)``): this process takes its tasks from the front
(:meth:`_Pending.take`), the worker, once its own job is done, from the back, and the two
meet wherever they meet — whichever finishes its own part first does more of the pool.
Two shared counters (the front and the back, in shared memory under a lock) say who took
what. The worker answers ``("ok", (value, {name: value}))`` (or, with no pool,
``("done",)`` first); its error is raised here, and a worker that dies is replaced by
computing its job and the tasks it took here. While it runs this process keeps its BLAS
and OpenMP pools to one thread and its objects out of the garbage collector
(``gc.freeze``).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time

from .. import _clock, forked


def _claim(ends, back: bool) -> int | None:
    """The next task's index from the front (this process) or the back (the worker), or
    None when the two have met. ``ends``: shared (front, back)."""
    with ends.get_lock():
        front, end = ends[0], ends[1]
        if front >= end:
            return None
        if back:
            ends[1] = end - 1
            return end - 1
        ends[0] = front + 1
        return front


class _Pending:
    """``fn(step, *args)`` run in a worker process (or here, when asked for, without one):
    :meth:`start` hands over the arguments, :meth:`result` gives the value. A pool of
    tasks (objects with ``name``, ``fn`` and ``args``) may be shared with the worker
    (:meth:`share`, once, before :meth:`result`): :meth:`take` gives this process its
    next one; the values of those the worker did are :meth:`extra`, by name."""

    def __init__(self, fn, child: forked.Child | None = None, limits=None, ends=None, unfreeze: bool = True):
        self._fn, self._child = fn, child
        self._unfreeze = unfreeze  # the objects frozen for the fork are this object's to unfreeze
        self._limits = limits  # this process's thread pools, held to one thread while the worker runs
        self._ends = ends  # the pool's (front, back), shared with the worker
        self.parallel = child is not None
        self._args: tuple = ()
        self._step = None
        self._started = False
        self._pool: list | None = None  # the shared tasks
        self._next = 0  # without a worker: the next task of the pool
        self._told = False
        self._extra = None

    @property
    def _proc(self):
        """The worker's process (None without one)."""
        return None if self._child is None else self._child.process

    def start(self, *args, step=None, what: str = "") -> None:
        self._args, self._step, self._started = args, step, True
        if self._child is None:
            return
        if step is not None and what:
            step(what)
        # written by a thread: the worker reads it once its imports are done (a second or
        # more), and this process reads on meanwhile (it waited 1.1 s in the write at 2.7 M)
        self._child.send(("go", args), wait=False)  # a worker that is gone: result() computes it here

    def share(self, tasks: list) -> None:
        """Share ``tasks`` with the worker (here, without one: :meth:`take` gives them all).
        Said at most once, before :meth:`result`."""
        self._pool = list(tasks)
        if self._child is None or self._told:
            return
        with self._ends.get_lock():
            self._ends[0], self._ends[1] = 0, len(self._pool)
        self._told = True
        self._child.send(("pool", self._pool), wait=False)  # pickled now, read when the worker is free

    def take(self):
        """This process's next task of the pool, or None when the pool is done (the rest
        is the worker's)."""
        if self._pool is None:
            return None
        if self._child is None or not self._told:
            if self._next >= len(self._pool):
                return None
            self._next += 1
            return self._pool[self._next - 1]
        i = _claim(self._ends, back=False)
        return None if i is None else self._pool[i]

    def extra(self) -> dict | None:
        """The values of the pool's tasks the worker did, by name (after :meth:`result`)."""
        return self._extra

    def result(self):
        if self._child is None:
            return self._here(self._step)
        if not self._started:
            self.start()
        if not self._told:
            self._told = True
            self._child.send(("done",))  # no pool: the worker answers after its job
        lost = False
        try:
            _ok, (value, self._extra) = self._child.recv()  # the worker's error is raised here
        except forked.Lost:  # the worker died (killed, out of memory): compute it here
            lost = True
        finally:
            self._child.close()
            self._restore()
        return self._here(None) if lost else value

    def _here(self, step):
        value = self._fn(step, *self._args)
        if self._pool is not None and self._child is not None and self._told:  # what a lost worker had taken
            self._extra = {t.name: t.fn(*t.args) for t in self._pool[self._ends[1]:]}
        return value

    def cancel(self) -> None:
        """Stop the worker (its result is not wanted)."""
        if self._child is None:
            return
        self._child.stop()
        self._restore()

    def _restore(self) -> None:
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None
            if self._unfreeze:
                gc.unfreeze()


def _worker(conn, fn, warm, ends) -> None:  # pragma: no cover - runs in the forked process
    """The worker's side: warm up, wait for the arguments, compute, then take tasks of
    the pool from its back until it meets this process (or, told ``"done"``, none); an
    error (or a value that cannot be pickled) goes back through :mod:`calibrate.forked`."""
    from threadpoolctl import threadpool_limits

    # one core each: BLAS and OpenMP threads would compete with the parent's (the variables
    # for the libraries ``warm`` loads, the limits for those loaded before and after)
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
    threadpool_limits(1)
    if warm is not None:
        warm()
        threadpool_limits(1)
    try:
        _go, args = conn.recv()
    except EOFError:  # the report needs no models after all
        return
    value = fn(None, *args)
    try:  # the pool, or "done" (the parent says which once it knows)
        then = conn.recv()
    except EOFError:
        return
    done = None
    if then[0] == "pool":
        pool, done = then[1], {}
        while (i := _claim(ends, back=True)) is not None:
            done[pool[i].name] = pool[i].fn(*pool[i].args)
    conn.send(("ok", (value, done)))


#: The cores' clock at the package's first import (:mod:`calibrate._clock`): the command has
#: been importing since, on one core, and the other cores' idle time in that window says
#: whether one is free.
_CPU_AT_IMPORT = _clock.AT_IMPORT
_cpu_times = _clock.cpu_times
#: A window shorter than this says too little; the load average decides instead.
MIN_WINDOW_S = 0.25


def _free_cores() -> float | None:
    """Cores idle on average since the package was imported, or None (no ``/proc/stat``
    or a window too short to tell)."""
    then, before = _CPU_AT_IMPORT
    now = _cpu_times()
    if before is None or now is None or time.monotonic() - then < MIN_WINDOW_S or now[1] <= before[1]:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores * (now[0] - before[0]) / (now[1] - before[1])


def use_worker() -> bool:
    """Whether :func:`background` forks a worker, as ``CALIBRATE_REPORT_WORKERS`` says:
    ``2`` whenever possible (Linux, two or more usable cores, a process that may fork:
    :func:`calibrate.forked.may_fork`); ``auto`` (what ``calibrate report`` sets when it is
    not set) only when possible, outside a Jupyter kernel (whose threads a fork must not
    copy) and with a core free; unset or ``1`` never — a library call does not fork its
    caller's process unless asked.

    "A core free": while this process imported its libraries (on one core), the machine's
    cores were idle at least half a core on average (``/proc/stat``, measured over the
    window since the package's first import); where that window cannot be measured, the
    one-minute load average is at most cores − 1. (The load average alone trails by a
    minute: a report run just after another saw a load above 1 on an idle machine and ran
    in one process, 19 s against 10–11 s.) Measured on the 2.7 M workspace
    (``benchmarks/report.py``, 2 cores): 10–11 s with the worker on a quiet machine
    against 17–19 s without; slower than one process when the cores are busy."""
    import sys

    setting = os.environ.get("CALIBRATE_REPORT_WORKERS", "").strip().lower()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if setting not in ("2", "auto") or not sys.platform.startswith("linux") or cores < 2 or not forked.may_fork():
        return False
    if setting == "2":
        return True
    if "ipykernel" in sys.modules:
        return False
    free = _free_cores()
    if free is not None:
        return free >= 0.5
    return os.getloadavg()[0] <= cores - 1


def background(fn, *, warm=None, shared=None) -> _Pending:
    """``fn(step, *args)`` in a forked worker process when :func:`use_worker` says so, else
    in this process when its result is asked for. The worker runs ``warm()`` (imports) at once and ``fn`` when
    :meth:`_Pending.start` gives the arguments; it gets no ``step`` (progress is this
    process's). ``shared()`` (imports both processes need) runs here before the fork, and
    only when there is a worker: the worker then shares what it loaded instead of loading
    it again. An error in the worker is raised by :meth:`_Pending.result`; a worker
    that dies is replaced by computing ``fn`` here."""
    if not use_worker():
        return _Pending(fn)
    if shared is not None:  # what both processes need, imported once: the worker shares its pages
        shared()
    # the objects made so far (the imported libraries, most of them) are shared with the
    # worker page by page until one side writes to them: kept out of the garbage
    # collector's passes (gc.freeze, as the gc module's documentation advises before a
    # fork), a collection in either process no longer copies their pages
    # (a process that froze its objects itself, as ``calibrate report`` does, keeps them
    # frozen after: the freeze is not counted, and unfreezing would undo the caller's too)
    ours = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        ends = multiprocessing.get_context("fork").Array("i", 2)  # the pool's (front, back), shared
        child = forked.Child(_worker, fn, warm, ends, duplex=True, last=("ok",), daemon=True, name="calibrate-report-worker")
    except BaseException:
        if ours:
            gc.unfreeze()
        raise
    # two processes on the cores: each keeps its BLAS and OpenMP pools to one thread (two
    # threads each oversubscribe a 2-core machine: 14.6 s against 12.3 s at 2.7 M)
    from threadpoolctl import threadpool_limits

    return _Pending(fn, child, threadpool_limits(1), ends, unfreeze=ours)
