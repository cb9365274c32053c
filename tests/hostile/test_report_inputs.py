"""The report with hostile data in the store (issue 14 point 6): a session id with
matplotlib math text (``$\\foo$``) is drawn as written; a value outside its item's
scale written over raw SQL makes ``calibrate report`` refuse with exit 2 and a message
naming it, not fail half-way."""

from __future__ import annotations

import contextlib
import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from calibrate.cli import main
from calibrate.store import Store

ITEM = "leerklimaat.klassenmanagement.1"


def _scores(session: str) -> pd.DataFrame:
    rows = []
    for case in ("C01", "C02", "C03"):
        for rater, value in (("B01", "gezien"), ("B02", "niet gezien"), ("B03", "gezien")):
            rows.append({"session": session, "session_date": "2026-01-19", "case": case, "rater": rater, "item": ITEM,
                         "kind": "indicator", "value": value})
    return pd.DataFrame(rows)


def _run(*argv) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(list(argv))
    return rc, err.getvalue()


def test_math_text_in_a_session_id_does_not_break_the_report(tmp_path):
    session = r"K$\foo$-1"
    with Store.open(tmp_path / "ws") as st:
        st.import_scores(_scores(session))
    rc, err = _run("report", "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "r.html"), "--quiet")
    assert rc == 0, err
    assert "foo" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_plain_text_figures_draw_dollar_signs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from calibrate.figure_text import plain, plain_text_figures

    with matplotlib.rc_context({"text.parse_math": True}):  # what would happen without it
        fig, ax = plt.subplots()
        ax.set_title(r"K$\foo$")
        with pytest.raises(ValueError):
            fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    plain_text_figures()
    fig, ax = plt.subplots()
    ax.set_title(r"K$\foo$")
    ax.set_xticks([0])
    ax.set_xticklabels([r"$\undefinedcommand$"])
    fig.savefig(io.BytesIO(), format="png")  # with math text on this raises ValueError
    plt.close(fig)
    assert plain("a$b") == r"a\$b"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_value_off_the_scale_makes_the_report_refuse(backend, tmp_path, request):
    if backend == "sqlite":
        args, st = ["--workspace", str(tmp_path / "ws")], Store.open(tmp_path / "ws")
    else:
        url = request.getfixturevalue("pg_url")
        args, st = ["--db", url], Store.open(db_url=url)
    with st:
        st.import_scores(_scores("K1"))
        bad = sa.text("UPDATE judgements SET value = 'zeven' WHERE case_id = 'C02' AND rater_id = 'B02'")
        with pytest.raises(sa.exc.DBAPIError, match="scale"):  # the store's own triggers refuse it
            with st.engine.begin() as conn:
                conn.execute(bad)
        # a store whose owner dropped the trigger (or one written by other software): the
        # report is the second line of defence
        with st.engine.begin() as conn:
            on = "" if backend == "sqlite" else " ON judgements"
            conn.execute(sa.text(f"DROP TRIGGER calibrate_judgements_scale_update{on}"))
            conn.execute(bad)
    rc, err = _run("report", *args, "--out", str(tmp_path / "r.json"), "--quiet")
    assert rc == 2 and "Traceback" not in err
    assert "outside their item's scale" in err and ITEM in err
    assert not (tmp_path / "r.json").exists()
    with Store.open(**({"workspace": tmp_path / "ws"} if backend == "sqlite" else {"db_url": args[1]})) as st:
        with st.engine.begin() as conn:
            conn.execute(sa.text("UPDATE judgements SET value = 'gezien' WHERE value = 'zeven'"))
    rc, err = _run("report", *args, "--out", str(tmp_path / "r.json"), "--quiet")
    assert rc == 0, err
    assert json.loads((tmp_path / "r.json").read_text())["session"]["id"] == "K1"
