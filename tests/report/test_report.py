"""The kalibreersessie report on the demo workspace: HTML, JSON, PDF; privacy and contract."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from calibrate.cli import main
from calibrate.store import Store

SECTIONS = (
    "De sessie in één oogopslag",
    "Agenda voor de volgende kalibreersessie",
    "Driftende indicatoren",
    "Overeenstemming per leeruitkomst, dimensie en indicator",
    "Beoordelaarsprofielen",
    "Oordeel en fasen",
    "Voor en na de bespreking",
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<![\w.])(?:\+31|0031|0)[\s-]?6[\s-]?\d{8}\b|(?<![\w.])0\d{2}[\s-]?\d{7}\b")


@pytest.fixture(scope="module")
def reports(demo_workspace, tmp_path_factory):
    out = tmp_path_factory.mktemp("rapport")
    with Store.open(demo_workspace) as store:
        from calibrate.report import write_report

        html = write_report(store, out / "rapport.html")
        js = write_report(store, out / "rapport.json")
    return {"html": html.read_text(encoding="utf-8"), "json": json.loads(js.read_text(encoding="utf-8")), "dir": out}


def test_html_is_self_contained(reports):
    html = reports["html"]
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert "@import" not in html and "<script" not in html.lower()
    assert "data:image/png;base64," in html
    assert "@page" in html and "A4" in html


def test_html_has_the_dutch_sections(reports):
    for title in SECTIONS:
        assert title in reports["html"], title


def test_json_keys_per_contract(reports):
    c = reports["json"]
    assert isinstance(c["drifting_indicators"], list)
    for d in c["drifting_indicators"]:
        assert {"item", "drift", "direction", "q_value"} <= set(d)
    assert len(c["rater_effects"]) == 6
    for r in c["rater_effects"]:
        assert {"rater", "leniency", "flagged", "drift_flagged"} <= set(r)
    assert {"session", "agreement", "agenda", "warnings", "phases", "discussion"} <= set(c)
    assert c["session"]["id"] == "K04-2026-07"


def test_planted_effects_show_up(reports):
    c = reports["json"]
    agenda = [a["item"] for a in c["agenda"]]
    # planted by the demo simulator (calibrate.devtools.simulate.DEMO_CONFIG): level drift on two
    # indicators (one lenient, one severe) — flagged after the FDR correction, and nothing else
    flagged = {d["item"]: d for d in c["drifting_indicators"]}
    assert set(flagged) == {"leerklimaat.klassenmanagement.2", "leerstof.activerend_lesgeven.4"}
    assert flagged["leerklimaat.klassenmanagement.2"]["direction"] == 1
    assert flagged["leerstof.activerend_lesgeven.4"]["direction"] == -1
    assert all(d["drift"] == "level" and d["q_value"] <= 0.05 for d in flagged.values())
    assert "leerstof.activerend_lesgeven.4" in agenda[:3]
    lenient_cutoff = {r["rater"]: r for r in c["phases"]["raters"]}
    assert lenient_cutoff["B04"]["lenient_flagged"]  # verdict-lenient cut-off, planted
    assert not any(r["lenient_flagged"] for k, r in lenient_cutoff.items() if k != "B04")
    raters = {r["rater"]: r for r in c["rater_effects"]}
    assert raters["B03"]["flagged"] and raters["B03"]["leniency"] > 0
    assert raters["B05"]["drift_flagged"] and raters["B05"]["leniency_change"] < 0
    assert c["agenda"][0]["cases"], "each agenda point names its most divergent cases"


def test_no_personal_data_in_output(reports):
    for text in (reports["html"], json.dumps(reports["json"], ensure_ascii=False)):
        assert not EMAIL.search(text)
        assert not PHONE.search(text)


def test_pdf_renders(demo_workspace, tmp_path):
    pytest.importorskip("weasyprint")
    with Store.open(demo_workspace) as store:
        from calibrate.report import write_report

        pdf = write_report(store, tmp_path / "rapport.pdf")
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_cli_report_and_unrevealed_session(demo_workspace, tmp_path, capsys):
    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace, ws)
    with Store.open(ws) as store:
        sessions = store.sessions()
        upcoming = sessions.loc[~sessions["revealed"], "session"].iloc[0]
        store.save_judgements(upcoming, store.session_cases(upcoming)[0], "B01", {"leerklimaat.klassenmanagement.1": "gezien"})
    assert main(["report", "--workspace", str(ws), "--session", upcoming, "--out", str(tmp_path / "r.json"), "--quiet"]) == 0
    c = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert c["session"]["revealed"] is False
    assert any("nog niet vrijgegeven" in w for w in c["warnings"])
    assert main(["report", "--workspace", str(ws), "--out", str(tmp_path / "r.txt")]) == 2


def test_before_and_after_the_discussion(demo_workspace, tmp_path):
    """A re-score round after the discussion: the change in agreement with its CI."""
    from calibrate.report import build_report_content

    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace, ws)
    with Store.open(ws) as store:
        first = store.scores("K04-2026-07")
        cases = list(dict.fromkeys(first["case"]))
        # the re-score round is blind while it is scored and revealed after (the reveal closes a round)
        store.create_session("K04b", "2026-07-07", cases=cases, raters=sorted(first["rater"].unique()), revealed=False,
                             parent="K04-2026-07")
        cons = store.consensus("K04-2026-07").set_index(["case", "item"])["value"]
        # after the discussion everyone gives the consensus value on the indicators
        for (case, rater), grp in first[first["kind"] == "indicator"].groupby(["case", "rater"]):
            store.save_judgements("K04b", case, rater, {i: cons.get((case, i), v) for i, v in zip(grp["item"], grp["value"])})
        store.reveal("K04b")
        content = build_report_content(store, session="K04-2026-07")
    (d,) = content["discussion"]
    assert d["before_session"] == "K04-2026-07" and d["after_session"] == "K04b"
    assert d["after"] > d["before"] and d["ci"][0] > 0


def test_model_sections_in_a_worker_give_the_same_content(demo_workspace, monkeypatch):
    """With CALIBRATE_REPORT_WORKERS=2 the model sections run in a forked worker beside the
    rest of the report; the content is the same as computing everything in order here."""
    from calibrate.report import build_report_content
    from calibrate.report import build as rb
    from calibrate.report import worker as rw

    seen = []
    real = rb.background

    def spy(fn, **kw):
        pending = real(fn, **kw)
        seen.append(pending.parallel)
        return pending

    monkeypatch.setattr(rb, "background", spy)
    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    with Store.open(demo_workspace) as store:
        monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "1")  # one process
        serial = build_report_content(store)
        monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
        parallel = build_report_content(store)
    assert seen == [False, True]
    assert json.dumps(parallel, sort_keys=False) == json.dumps(serial, sort_keys=False)
    assert [s["id"] for s in parallel["sections"]] == ["beoordelaars", "betrouwbaarheid"]


def test_auto_uses_the_worker_only_with_a_free_core_outside_a_kernel(monkeypatch):
    import sys

    from calibrate.report import worker as rw

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(rw, "_free_cores", lambda: None)  # the load average decides (no window)
    monkeypatch.delenv("CALIBRATE_REPORT_WORKERS", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(rw.os, "getloadavg", lambda: (0.4, 0.4, 0.4))
    assert not rw.use_worker()  # unset: a library call never forks its caller
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "auto")
    assert rw.use_worker() is sys.platform.startswith("linux")
    monkeypatch.setattr(rw.os, "getloadavg", lambda: (1.6, 1.0, 1.0))  # both cores busy
    assert not rw.use_worker()
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
    assert rw.use_worker() is sys.platform.startswith("linux")  # asked for: whatever the load
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "1")
    monkeypatch.setattr(rw.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert not rw.use_worker()
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "auto")
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # inside a Jupyter kernel: never by default
    assert not rw.use_worker()
    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
    assert not rw.use_worker()  # one core: never


def test_auto_reads_the_idle_cores_since_import_before_the_load_average(monkeypatch):
    """The other core's idle time while the command imported decides, not the trailing
    one-minute load average; the idle share is computed from /proc/stat's counters."""
    import sys

    from calibrate.report import worker as rw

    real = rw._cpu_times()
    if sys.platform.startswith("linux"):  # idle + iowait, and the sum of the first eight fields
        with open("/proc/stat") as fh:
            f = [float(v) for v in fh.readline().split()[1:9]]
        assert real is not None and 0 < real[0] <= f[3] + f[4] and real[1] <= sum(f)
    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "auto")
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(rw.os, "getloadavg", lambda: (1.8, 1.0, 1.0))  # a minute ago both were busy
    # 100 ticks passed on 2 cores: 80 idle (one core importing, the other free) ...
    monkeypatch.setattr(rw, "_CPU_AT_IMPORT", (rw.time.monotonic() - 1.0, (1000.0, 5000.0)))
    monkeypatch.setattr(rw, "_cpu_times", lambda: (1080.0, 5100.0))
    assert rw._free_cores() == pytest.approx(1.6)
    assert rw.use_worker() is sys.platform.startswith("linux")
    # ... or 10 idle: the other core is busy too
    monkeypatch.setattr(rw, "_cpu_times", lambda: (1010.0, 5100.0))
    assert rw._free_cores() == pytest.approx(0.2)
    assert not rw.use_worker()
    # a window too short to tell: the load average
    monkeypatch.setattr(rw, "_CPU_AT_IMPORT", (rw.time.monotonic(), (1000.0, 5000.0)))
    assert rw._free_cores() is None
    assert not rw.use_worker()
    monkeypatch.setattr(rw.os, "getloadavg", lambda: (0.3, 1.0, 1.0))
    assert rw.use_worker() is sys.platform.startswith("linux")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat")
def test_the_idle_window_opens_at_the_package_import_not_at_the_worker_module():
    """The window holds the command's whole import: the worker's module is imported last
    (after pandas, the store, the report's content), so a window opened there held a few
    milliseconds and the trailing load average decided (one process after a busy minute)."""
    code = (
        "import time\n"
        "import calibrate.scores\n"
        "time.sleep(0.4)  # the rest of the import\n"
        "from calibrate.report import worker\n"
        "from calibrate import _clock\n"
        "assert worker._CPU_AT_IMPORT is _clock.AT_IMPORT\n"
        "print(worker._free_cores())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() != "None" and float(out) >= 0.0


def test_an_error_in_the_worker_is_raised_in_the_report(monkeypatch):
    from calibrate.report import worker as rw

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")

    def broken(_step):
        raise ZeroDivisionError("a bug in a model section")

    pending = rw.background(broken)
    assert pending.parallel
    pending.start()
    with pytest.raises(ZeroDivisionError, match="a bug in a model section"):
        pending.result()
    pending = rw.background(lambda step, a, b: ("done", step is None, a + b), warm=lambda: None)
    pending.start(2, 3, step=print)
    assert pending.result() == ("done", True, 5)  # the arguments cross, no progress from a worker
    from calibrate.errors import InputError

    def bad_input(_step):
        raise InputError("no such item", location="scores.csv, row 3", hint="Check the item id.")

    pending = rw.background(bad_input)
    pending.start()
    with pytest.raises(InputError, match="no such item") as exc:
        pending.result()
    assert (exc.value.location, exc.value.hint) == ("scores.csv, row 3", "Check the item id.")

    def keyword_only(_step):  # plain pickling cannot rebuild it: _Keyword(args) lacks ``code``
        raise _Keyword("a bug", code=7)

    pending = rw.background(keyword_only)
    pending.start()
    with pytest.raises(_Keyword, match="a bug") as exc:
        pending.result()
    assert exc.value.code == 7
    pending = rw.background(lambda _step: (lambda: None))  # a value that cannot be pickled: an error
    pending.start()
    with pytest.raises(Exception, match="pickle"):
        pending.result()


class _Keyword(Exception):
    def __init__(self, message, *, code):
        super().__init__(message)
        self.code = code


def _twice(x):
    return 2 * x


def _pause_then(seconds, value):
    import time

    time.sleep(seconds)
    return value


def _pool(*pauses):
    from calibrate.report.build import Task

    return [Task(i, _pause_then, (p, i)) for i, p in enumerate(pauses)]


def test_the_pool_is_shared_from_both_ends(monkeypatch):
    """This process takes the pool's tasks from the front, the worker — once its own job
    is done — from the back; each task is done once, by one of them; without a worker all
    of them here; the worker's error is raised; with no pool the worker just answers."""
    import time

    from calibrate.report import worker as rw
    from calibrate.report.build import Task

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    # a worker done at once, this process slow: the worker takes most, from the back
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
    pending = rw.background(lambda _step, a: a + 1)
    assert pending.parallel
    pending.start(41)
    pending.share(_pool(*[0.3] * 8))
    here = []
    while (task := pending.take()) is not None:
        here.append(task.name)
        task.fn(*task.args)
    assert pending.result() == 42
    there = sorted(pending.extra())
    assert sorted(here + there) == list(range(8)) and not set(here) & set(there)
    assert here == list(range(len(here))) and there == list(range(len(here), 8))  # front and back
    assert 1 <= len(here) <= 6 and len(there) >= 2
    assert pending.extra() == {i: i for i in there}
    # a worker busy with its own job the whole time: this process does the pool alone
    pending = rw.background(lambda _step: _pause_then(3.0, "first"))
    pending.start()
    pending.share(_pool(0, 0, 0))
    assert [t.name for t in iter(pending.take, None)] == [0, 1, 2]
    assert pending.result() == "first" and pending.extra() == {}
    # no pool: "done"
    pending = rw.background(lambda _step: "first")
    pending.start()
    assert pending.result() == "first" and pending.extra() is None
    # an error in a task the worker took
    pending = rw.background(lambda _step: "first")
    pending.start()
    pending.share([Task("bad", _twice, (None,))])  # 2 * None: TypeError
    deadline = time.monotonic() + 30
    while pending._ends[1] == 1 and time.monotonic() < deadline:  # the worker, done with its job, takes it
        time.sleep(0.01)
    assert pending.take() is None
    with pytest.raises(TypeError):
        pending.result()
    # without a worker: the pool here, in order
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "1")
    pending = rw.background(lambda _step, a: a + 1)
    assert not pending.parallel
    pending.start(1)
    pending.share(_pool(0, 0))
    assert [t.name for t in iter(pending.take, None)] == [0, 1]
    assert pending.result() == 2 and pending.extra() is None


def test_a_lost_worker_s_tasks_are_done_here(monkeypatch):
    """A worker killed after taking a task from the back: its job and that task are
    computed here; the rest this process took itself."""
    import os as _os
    import signal
    import time

    from calibrate.report import worker as rw

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
    pending = rw.background(lambda _step: "first")
    pending.start()
    pending.share(_pool(0.0, 0.0, 60.0))  # the worker takes the last and hangs in it
    deadline = time.monotonic() + 30
    while pending._ends[1] == 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    _os.kill(pending._proc.pid, signal.SIGKILL)
    assert [t.name for t in iter(pending.take, None)] == [0, 1]
    pending._pool[2] = pending._pool[2]._replace(args=(0.0, 2))  # here without the minute's pause
    assert pending.result() == "first" and pending.extra() == {2: 2}


_DRAWN_HERE: list = []


def _drawing(entries, reference):
    """calibrate.report.trajectory_figures, noting what this process drew (the worker's
    calls are the worker's own)."""
    _DRAWN_HERE[-1].extend(e["item"] for e in entries)
    return _drawing.real(entries, reference)


def test_the_report_drawn_with_a_worker_is_the_report_drawn_alone(demo_workspace, tmp_path, monkeypatch):
    """The page written with the worker is byte for byte the page written in one process,
    whether the worker was free for the shared work (it takes from the back) or busy
    with the model sections the whole time (this process does it all)."""
    import calibrate.report as rep
    from calibrate.report import build as rb
    from calibrate.report import worker as rw
    from calibrate.report import write_report

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    _DRAWN_HERE.clear()
    monkeypatch.setattr(_drawing, "real", rep.trajectory_figures, raising=False)
    monkeypatch.setattr(rep, "trajectory_figures", _drawing)
    real_part = rb._model_part
    pages = {}
    with Store.open(demo_workspace) as store:
        for setting, busy in (("1", False), ("2", False), ("2", True)):
            monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", setting)
            # busy: the worker's own job outlasts this process's whole pool
            monkeypatch.setattr(rb, "_model_part", (lambda *a: _pause_then(4.0, real_part(*a))) if busy else real_part)
            _DRAWN_HERE.append([])  # what this process draws in this run
            pages[setting, busy] = write_report(store, tmp_path / f"r{setting}{busy}.html").read_text(encoding="utf-8")
    assert pages["2", False] == pages["1", False] == pages["2", True]
    assert pages["1", False].count("data:image/png;base64,") >= 3
    alone, beside_free, beside_busy = _DRAWN_HERE
    assert len(alone) == 2 and beside_busy == alone  # the demo's two drifting indicators
    assert beside_free == alone[: len(beside_free)]  # the front of the pool; the worker took the rest


def test_a_cancelled_worker_is_gone(monkeypatch):
    """A report that fails while the worker runs stops the worker (none outlives it)."""
    import time

    from calibrate.report import worker as rw

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
    for started in (False, True):  # waiting for its arguments, or computing
        pending = rw.background(lambda _step: time.sleep(60))
        if started:
            pending.start()
        assert pending.parallel and pending._proc.is_alive()
        pending.cancel()
        assert not pending._proc.is_alive()


def test_the_worker_leaves_a_caller_s_freeze_as_it_was(monkeypatch):
    """``calibrate report`` freezes its objects before the report; the worker's own freeze
    for the fork is undone after it only where nobody had frozen them before."""
    import gc

    from calibrate.report import worker as rw

    monkeypatch.setattr(rw.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setenv("CALIBRATE_REPORT_WORKERS", "2")
    gc.unfreeze()
    try:
        pending = rw.background(lambda _step: "first")
        pending.start()
        assert gc.get_freeze_count() > 0  # frozen for the fork
        assert pending.result() == "first"
        assert gc.get_freeze_count() == 0  # its own freeze, undone
        gc.freeze()  # as cli.prepare_report_process
        pending = rw.background(lambda _step: "first")
        pending.start()
        assert pending.result() == "first"
        assert gc.get_freeze_count() > 0  # the caller's freeze stays
    finally:
        gc.unfreeze()
