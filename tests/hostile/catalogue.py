"""The hostile and careless inputs of issue 14, as data: each case builds its files in a
fresh folder, names the command line to run and the planted strings that must not come
out anywhere (the database, the export, the messages).

Used by the tests in this folder (one test per case) and by ``count.py``, which prints
how many were tried, refused cleanly and leaked.

A case is *refused cleanly* when the command exits with status 2, prints no traceback,
names the file (or flag) it refuses and leaves the workspace database byte-for-byte as
it was; it *leaks* when a planted string shows up in the database, an output file or the
messages. Cases marked ``accept`` are careless-but-valid inputs (a UTF-16 file, a cp1252
roster): they must succeed (exit 0) and still leak nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HEADER = "session,session_date,case,rater,item,kind,value,note,scored_at"
ITEM = "leerklimaat.klassenmanagement.1"
# planted personal data: a roster of two, their contact details and a BSN/IBAN that pass their checks
ROSTER = "name,role\nFatima Yılmazer,student\nJeroen de Boer,werkplekbegeleider\n"
NAME, NAME2 = "Fatima Yılmazer", "Jeroen de Boer"
EMAIL, PHONE, BSN, IBAN = "f.yilmazer@student.han.nl", "0612345678", "111222333", "NL91ABNA0417164300"
PLANTED = (NAME, "Yılmazer", "Yilmazer", NAME2, EMAIL, PHONE, BSN, IBAN)


def row(session="K1", date="2026-01-19", case="C01", rater="B01", item=ITEM, kind="indicator", value="gezien",
        note="", stamp="2026-01-19T10:00:00") -> str:
    return ",".join([session, date, case, rater, item, kind, value, note, stamp])


def scores_csv(*rows: str) -> str:
    return "\n".join([HEADER, *(rows or [row()])]) + "\n"


@dataclass
class Case:
    """One hostile input: ``build(folder)`` writes what it needs and returns the argv."""

    id: str
    point: str  # the issue 14 point it comes from
    build: Callable[[Path], list[str]]
    accept: bool = False  # a careless but valid input: must succeed
    planted: tuple[str, ...] = PLANTED
    mentions: str | None = None  # a word the message must contain (the file or flag named)
    needs_workspace: bool = True
    env: dict = field(default_factory=dict)
    pg: bool = False  # also run against PostgreSQL (--db) by count.py --postgres and the tests


#: when set, the cases run against this PostgreSQL database instead of the folder's workspace
DB_URL: str | None = None


def _target(f: Path) -> list[str]:
    return ["--workspace", str(f / "ws")] if DB_URL is None else ["--db", DB_URL]


# ---------------------------------------------------------------------- builders
def _w(folder: Path, name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def _imp(what: str, name: str, text, *extra: str, encoding: str = "utf-8"):
    def build(f: Path) -> list[str]:
        path = _w(f, name, text, encoding)
        return ["import", what, str(path), "--workspace", str(f / "ws"), *extra]

    return build


def _with_roster(what: str, name: str, text, *extra: str):
    def build(f: Path) -> list[str]:
        _w(f, "roster.csv", ROSTER)
        path = _w(f, name, text)
        return ["import", what, str(path), "--workspace", str(f / "ws"), "--roster", str(f / "roster.csv"), *extra]

    return build


def _after_roster(what: str, name: str, text, *extra: str):
    """Cases imported with the roster first; then ``text`` imported WITHOUT --roster."""

    def build(f: Path) -> list[str]:
        from calibrate.cli import main

        _w(f, "roster.csv", ROSTER)
        _w(f, "first.csv", "case,title,text\nC50,Les,Fatima Yılmazer gaf les.\n")
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["import", "cases", str(f / "first.csv"), *_target(f),
                         "--roster", str(f / "roster.csv")]) == 0
        path = _w(f, name, text)
        return ["import", what, str(path), "--workspace", str(f / "ws"), *extra]

    return build


def _session(*args: str):
    def build(f: Path) -> list[str]:
        _after_roster("cases", "c.csv", "case,title,text\nC51,Les,tekst\n")(f)
        return ["session", "create", *args, "--date", "2026-02-01", "--workspace", str(f / "ws")]

    return build


def _cli(*args: str, pre: Callable[[Path], None] | None = None):
    def build(f: Path) -> list[str]:
        if pre is not None:
            pre(f)
        return [a.replace("{F}", str(f)) for a in args]

    return build


def _mkdir(name: str):
    return lambda f: (f / name).mkdir()


def _file(name: str, data: bytes = b"x"):
    return lambda f: _w(f, name, data)


def _db(kind: str):
    def pre(f: Path) -> None:
        d = f / "odd"
        d.mkdir()
        db = d / "calibrate.sqlite"
        if kind == "text":
            db.write_text("hello, I am not a database\n")
        elif kind == "truncated":
            whole = (f / "ws" / "calibrate.sqlite").read_bytes()
            db.write_bytes(whole[:5000])
        elif kind == "unrelated":
            con = sqlite3.connect(db)
            con.execute("CREATE TABLE patients (name TEXT)")
            con.execute("INSERT INTO patients VALUES ('Fatima Yılmazer')")
            con.commit()
            con.close()

    return pre


def zip_bomb(path: Path, unpacked_mb: int = 300) -> Path:
    """A small ``.xlsx`` whose sheet XML unpacks to ``unpacked_mb`` MB (written in
    pieces, so building it costs little memory)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["session"])
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    piece = b"<row><c t='inlineStr'><is><t>" + b"A" * (1 << 20) + b"</t></is></c></row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                dst.writestr(name, data)
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b"<?xml version='1.0'?><worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/"
                     b"2006/main'><sheetData>")
            for _ in range(unpacked_mb):
                fh.write(piece)
            fh.write(b"</sheetData></worksheet>")
    return path


def _bomb(f: Path) -> list[str]:
    zip_bomb(f / "bomb.xlsx")
    return ["import", "scores", str(f / "bomb.xlsx"), "--workspace", str(f / "ws")]


def _two_sheets(f: Path) -> list[str]:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.active.append(row().split(","))
    extra = book.create_sheet("Fatima Yılmazer")
    extra.append(["aantekeningen"])
    book.save(f / "two.xlsx")
    return ["import", "scores", str(f / "two.xlsx"), "--workspace", str(f / "ws")]


def _full_disk(f: Path) -> list[str]:
    _w(f, "s.csv", scores_csv(*[row(case=f"C{i:04d}", note="x" * 200) for i in range(3000)]))
    return ["import", "scores", str(f / "s.csv"), "--workspace", str(f / "ws")]


# ---------------------------------------------------------------------- the catalogue
CASES: list[Case] = [
    # point 2: names and contact data through doors the pseudonymiser did not watch
    Case("rater id is a roster name", "2", _with_roster("scores", "s.csv", scores_csv(row(rater=NAME)))),
    Case("rater id is an e-mail address", "2", _imp("scores", "s.csv", scores_csv(row(rater=EMAIL)))),
    Case("rater id is a phone number", "2", _imp("scores", "s.csv", scores_csv(row(rater=PHONE)))),
    Case("case id is a BSN", "2", _imp("scores", "s.csv", scores_csv(row(case=BSN)))),
    Case("case id is an IBAN", "2", _imp("scores", "s.csv", scores_csv(row(case=IBAN)))),
    Case("case id is a student number", "2", _imp("scores", "s.csv", scores_csv(row(case="1234567")))),
    Case("session id holds a name (stored fingerprints, no --roster)", "2",
         _after_roster("scores", "s.csv", scores_csv(row(session="K1-Fatima-Yilmazer")))),
    Case("rater id is a name without its diacritics (no --roster)", "2",
         _after_roster("scores", "s.csv", scores_csv(row(rater="fatima.yilmazer")))),
    Case("consensus case id holds an e-mail", "2",
         _imp("consensus", "c.csv", "session,session_date,case,item,kind,value\n"
                                    f"K1,2026-01-19,{EMAIL},{ITEM},indicator,gezien\n")),
    Case("item id holds a name", "2", _with_roster("scores", "s.csv", scores_csv(row(item="JeroenDeBoer.1")))),
    Case("case id in a cases file is a name (no --roster)", "2",
         _after_roster("cases", "c.csv", "case,title,text\nJeroen de Boer,Les,tekst\n")),
    Case("material link holds an e-mail", "2",
         _imp("cases", "c.csv", f"case,title,text,material\nC02,Les,tekst,mailto:{EMAIL}\n")),
    Case("material link holds a student number", "2",
         _imp("cases", "c.csv", "case,title,text,material\nC02,Les,tekst,https://x.example/v?student=1234567\n")),
    Case("session id is a name (session create)", "2", _session("Jeroen-de-Boer")),
    Case("session title holds a phone number", "2", _session("K9", "--title", f"Bel {PHONE}")),
    Case("session rater is an e-mail (session create)", "2", _session("K9", "--raters", EMAIL)),
    Case("mistyped item id", "9", _imp("scores", "s.csv", scores_csv(row(item="leerklimaat.klassenmanagment.1")))),
    Case("item id in other case", "9", _imp("scores", "s.csv", scores_csv(row(item="Leerklimaat.Klassenmanagement.1")))),
    Case("year 1066", "9", _imp("scores", "s.csv", scores_csv(row(date="1066-10-14")))),
    Case("year 1066 (session create)", "9", _cli("session", "create", "K9", "--date", "1066-10-14",
                                                 "--workspace", "{F}/ws")),
    Case("header-less score file with a name, e-mail, phone in row 1", "9",
         _imp("scores", "s.csv", f"K1,2026-01-19,C01,{NAME},{EMAIL},{PHONE},x\n")),
    Case("NUL byte in a note", "6", _imp("scores", "s.csv", scores_csv(row(note="a\x00b")))),
    Case("id over 255 characters", "6", _imp("scores", "s.csv", scores_csv(row(case="C" * 300)))),
    # point 6: crashes instead of exit 2
    Case("input path is a directory", "6", _cli("import", "scores", "{F}/dir", "--workspace", "{F}/ws", pre=_mkdir("dir")),
         mentions="dir"),
    Case("--workspace is a file", "6", _cli("export", "scores", "--workspace", "{F}/afile", "--out", "{F}/o.csv",
                                            pre=_file("afile")), mentions="afile"),
    Case("--out is a directory", "6", _cli("export", "scores", "--workspace", "{F}/ws", "--out", "{F}/outdir",
                                           pre=_mkdir("outdir")), mentions="outdir"),
    Case("--out is /dev/full", "6", _cli("export", "scores", "--workspace", "{F}/ws", "--out", "/dev/full"),
         mentions="/dev/full"),
    Case("report --out is a directory", "6", _cli("report", "--workspace", "{F}/ws", "--out", "{F}/outdir",
                                                  pre=_mkdir("outdir")), mentions="outdir"),
    Case("truncated calibrate.sqlite", "6", _cli("export", "scores", "--workspace", "{F}/odd", "--out", "{F}/o.csv",
                                                 pre=_db("truncated")), mentions="calibrate.sqlite"),
    Case("calibrate.sqlite that is not SQLite", "6",
         _cli("export", "scores", "--workspace", "{F}/odd", "--out", "{F}/o.csv", pre=_db("text")),
         mentions="calibrate.sqlite"),
    Case("empty roster", "6", _cli("import", "cases", "{F}/c.csv", "--roster", "{F}/r.csv", "--workspace", "{F}/ws",
                                   pre=lambda f: (_w(f, "r.csv", b""), _w(f, "c.csv", "case,title,text\nC3,t,x\n"))),
         mentions="r.csv"),
    Case("corrupt roster", "6", _cli("import", "cases", "{F}/c.csv", "--roster", "{F}/r.csv", "--workspace", "{F}/ws",
                                     pre=lambda f: (_w(f, "r.csv", b"\x00\x01\x02\xff garbage"),
                                                    _w(f, "c.csv", "case,title,text\nC3,t,x\n"))), mentions="r.csv"),
    Case("roster without a header (a name in row 1)", "6",
         _cli("import", "cases", "{F}/c.csv", "--roster", "{F}/r.csv", "--workspace", "{F}/ws",
              pre=lambda f: (_w(f, "r.csv", f"{NAME},student\n{NAME2},wpb\n"), _w(f, "c.csv", "case,title,text\nC3,t,x\n"))),
         mentions="r.csv"),
    Case("--db mysql://", "6", _cli("export", "scores", "--db", "mysql://user:secret@host/db", "--out", "{F}/o.csv"),
         mentions="--db", planted=("secret",)),
    Case("disk full during import", "6", _full_disk),
    # point 7: careless paths
    Case("export --out is the workspace database", "7",
         _cli("export", "scores", "--workspace", "{F}/ws", "--out", "{F}/ws/calibrate.sqlite"), mentions="calibrate.sqlite"),
    Case("agreement --out is the workspace database", "7",
         _cli("agreement", "--workspace", "{F}/ws", "--out", "{F}/ws/calibrate.sqlite"), mentions="calibrate.sqlite"),
    Case("agreement --out is a directory", "6", _cli("agreement", "--workspace", "{F}/ws", "--out", "{F}/outdir",
                                                     pre=_mkdir("outdir")), mentions="outdir"),
    Case("export on a mistyped workspace", "7", _cli("export", "scores", "--workspace", "{F}/wss", "--out", "{F}/o.csv"),
         mentions="wss"),
    Case("report on a mistyped workspace", "7", _cli("report", "--workspace", "{F}/wss", "--out", "{F}/r.json"),
         mentions="wss"),
    Case("unrelated SQLite file named calibrate.sqlite", "7",
         _cli("import", "scores", "{F}/s.csv", "--workspace", "{F}/odd",
              pre=lambda f: (_db("unrelated")(f), _w(f, "s.csv", scores_csv()))), mentions="calibrate.sqlite"),
    # point 8: amplification
    Case("zip-bomb .xlsx", "8", _bomb, mentions="bomb.xlsx"),
    Case("extra .xlsx sheet with data", "9", _two_sheets, mentions="two.xlsx"),
    # point 9: careless but valid
    Case("UTF-16 'Unicode-tekst' from Excel", "9",
         _imp("scores", "s.txt", scores_csv().replace(",", "\t"), encoding="utf-16"), accept=True),
    Case("cp1252 roster", "9", _cli("import", "cases", "{F}/c.csv", "--roster", "{F}/r.csv", "--workspace", "{F}/ws",
                                    pre=lambda f: (_w(f, "r.csv", "name\nRené Müller\n", "cp1252"),
                                                   _w(f, "c.csv", "case,title,text\nC4,Les,René Müller gaf les.\n"))),
         accept=True, planted=("René", "Müller")),
]


_ON_POSTGRES = {
    "NUL byte in a note", "id over 255 characters", "empty roster", "corrupt roster",
    "roster without a header (a name in row 1)", "--out is a directory", "--out is /dev/full",
    "report --out is a directory",
}
for _case in CASES:
    _case.pg = _case.point in {"2", "9"} or _case.id in _ON_POSTGRES


# ---------------------------------------------------------------------- running one
@dataclass
class Outcome:
    case: Case
    rc: int
    out: str
    err: str
    db_unchanged: bool
    leaked: list[str]

    @property
    def clean(self) -> bool:
        if self.leaked or "Traceback" in self.err:
            return False
        if self.case.accept:
            return self.rc == 0
        named = self.case.mentions is None or self.case.mentions in self.err
        return self.rc == 2 and self.db_unchanged and named and bool(self.err.strip())


def _pg_dump() -> str:
    import sqlalchemy as sa

    from calibrate.store import schema as t
    from calibrate.store.engine import make_engine

    engine = make_engine(DB_URL)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("meta"):
                return ""
            return "\n".join(repr(sorted(map(repr, conn.execute(sa.select(tb)).all())))
                             for tb in t.metadata.sorted_tables)
    finally:
        engine.dispose()


def _digest(ws: Path) -> str | None:
    if DB_URL is not None:
        return hashlib.sha256(_pg_dump().encode()).hexdigest()
    db = ws / "calibrate.sqlite"
    if not db.exists():
        return None
    con = sqlite3.connect(db)
    try:  # the content, not the bytes: opening for reading may checkpoint the WAL
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


def _texts(folder: Path) -> str:
    """Everything readable the run left behind: databases dumped, other files decoded."""
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name in {"roster.csv", "r.csv", "first.csv"} or path.suffix == ".key":
            continue
        if path.parent.name == "odd":  # another program's database, planted by the case itself: only messages count
            continue
        if path.name.startswith("calibrate.sqlite") and path.suffix == ".sqlite":
            with contextlib.suppress(sqlite3.DatabaseError):
                con = sqlite3.connect(path)
                out.append("\n".join(con.iterdump()))
                con.close()
        elif path.parent.name in {"ws", "odd"} or path.suffix in {".csv", ".json", ".html", ".xlsx"}:
            if path.parent.name in {"ws", "odd"} or path.name.startswith(("o.", "r.", "out")):
                out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def demo_workspace(folder: Path) -> Path:
    """A small workspace with one session (made once per folder)."""
    from calibrate.cli import main

    ws = folder / "ws"
    _w(folder, "seed.csv", scores_csv(row(), row(rater="B02", value="niet gezien")))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["import", "scores", str(folder / "seed.csv"), *_target(folder)]) == 0
    (folder / "seed.csv").unlink()
    return ws


def run(case: Case, folder: Path) -> Outcome:
    """Build ``case`` in ``folder`` (which gets a small workspace ``ws``), run the command
    in this process and look for leaks."""
    from calibrate.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    if case.needs_workspace:
        demo_workspace(folder)
    argv = case.build(folder)
    if DB_URL is not None:  # the same command against PostgreSQL
        ws = str(folder / "ws")
        swapped, k = [], 0
        while k < len(argv):
            if argv[k] == "--workspace" and argv[k + 1:k + 2] == [ws]:
                swapped += ["--db", DB_URL]
                k += 2
            else:
                swapped.append(argv[k])
                k += 1
        argv = swapped
    before = _digest(folder / "ws")
    out, err = io.StringIO(), io.StringIO()
    old_env = {k: os.environ.get(k) for k in case.env}
    os.environ.update(case.env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _full_disk_if(case):
            try:
                rc = main(argv)
            except SystemExit as exc:  # argparse
                rc = int(exc.code or 0)
            except BaseException:  # noqa: BLE001 - a traceback is what we count
                import traceback

                traceback.print_exc()
                rc = -1
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    after = _digest(folder / "ws")
    text = _texts(folder) + (_pg_dump() if DB_URL else "") + out.getvalue() + err.getvalue()
    leaked = [p for p in case.planted if p in text] if not case.accept else \
        [p for p in case.planted if p in _texts(folder / "ws")]
    return Outcome(case, rc, out.getvalue(), err.getvalue(), before == after, leaked)


@contextlib.contextmanager
def _full_disk_if(case: Case):
    """For the disk-full case: SQLite may use only the pages the database has now (its
    ``max_page_count``), which is what a full disk looks like to it (SQLITE_FULL)."""
    if case.build is not _full_disk:
        yield
        return
    import sqlalchemy as sa

    from calibrate.store import engine as eng

    original = eng.make_engine

    def full(url):
        engine = original(url)
        if url.startswith("sqlite"):
            @sa.event.listens_for(engine, "connect")
            def _cap(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                pages = cur.execute("PRAGMA page_count").fetchone()[0]
                cur.execute(f"PRAGMA max_page_count={pages + 2}")
                cur.close()
        return engine

    import calibrate.store.base as base

    base.make_engine = full
    try:
        yield
    finally:
        base.make_engine = original
