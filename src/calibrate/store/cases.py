"""Cases and pseudonyms: importing case texts pseudonymised, and the key that does it.

Owns :class:`CasesMixin` of :class:`calibrate.store.Store`: the cases import (all or
nothing, text and title pseudonymised before anything is written), the roster's keyed
fingerprints, and the pseudonymiser every note goes through on its way in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ..errors import InputError, StoreError
from . import schema as t
from .base import _insert_ignore, utcnow
from .imports import ImportSummary


class CasesMixin:
    """Cases and the pseudonym key of a store."""

    def import_cases(self, df: pd.DataFrame, *, source: str = "cases", pseudonymiser=None) -> ImportSummary:
        """Import cases (columns case, title, text, optional material), all or nothing.

        Text and title go through ``pseudonymiser`` (a :class:`calibrate.privacy.Pseudonymiser`)
        before anything is written; the summary reports replacements by type and count only.
        A case that exists already gets the new title/text/material.
        """
        df = df.copy()
        df.columns = [str(c).strip() for c in df.columns]
        required = ["case", "title", "text"]
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise InputError(
                f"column(s) {', '.join(map(repr, missing))} missing from the header.",
                location=f"{source}, row 1",
                hint="A cases file has the columns case, title, text and optionally material.",
            )
        extra = [c for c in df.columns if c not in (*required, "material")]
        if extra:
            raise InputError(f"unknown column(s) {', '.join(map(repr, extra))}.", location=f"{source}, row 1",
                             hint="A cases file has the columns case, title, text and optionally material.")
        if len(df) == 0:
            raise InputError("the cases file has a header but no rows.", location=source)
        if "material" not in df.columns:
            df["material"] = pd.NA
        errors = []
        for idx, case in zip(df.index, df["case"]):
            if pd.isna(case) or not str(case).strip():
                errors.append(f"row {idx + 2}, column 'case': empty; every case needs an anonymised id.")
        dup = df["case"].dropna()
        for case in dup[dup.duplicated()].unique():
            rows = ", ".join(str(i + 2) for i in df.index[df["case"] == case])
            errors.append(f"rows {rows}, column 'case': case id {case!r} appears more than once.")
        if errors:
            raise InputError("problems found, nothing was imported:\n  " + "\n  ".join(errors[:20]), location=source)
        totals: dict[str, int] = {}
        rows = []
        for _, r in df.iterrows():
            rec = {"id": str(r["case"]).strip()}
            for col in ("title", "text", "material"):
                val = None if pd.isna(r[col]) else str(r[col])
                if val is not None and pseudonymiser is not None and col != "material":
                    res = pseudonymiser.pseudonymise(val)
                    val = res.text
                    for k, v in res.counts.items():
                        totals[k] = totals.get(k, 0) + v
                rec[col] = val
            rows.append(rec)
        if pseudonymiser is not None and any(rows):
            for rec in rows:
                for bad in _case_id_problems(rec["id"], pseudonymiser):
                    raise InputError(f"case id {rec['id'][:3]}… looks like personal data ({bad}).", location=source,
                                     hint="Use an anonymised case id such as C01.")
        now = utcnow()
        with self._write() as conn:
            known = {r[0] for r in conn.execute(sa.select(t.cases.c.id))}
            new = [r for r in rows if r["id"] not in known]
            old = [r for r in rows if r["id"] in known]
            if new:
                conn.execute(sa.insert(t.cases), [{**r, "created_at": now} for r in new])
            for r in old:
                conn.execute(sa.update(t.cases).where(t.cases.c.id == r["id"]).values(title=r["title"], text=r["text"], material=r["material"]))
            if pseudonymiser is not None:
                self._check_key(conn, pseudonymiser._key)
                self._store_fingerprints(conn, pseudonymiser)
        self._pseudonymiser = None  # new fingerprints: rebuild on next use
        return ImportSummary(source, len(rows), len(new) + len(old), 0, new_cases=tuple(r["id"] for r in new), replaced=totals)

    def _store_fingerprints(self, conn, pseudonymiser) -> None:
        rows = getattr(pseudonymiser, "fingerprint_rows", None)
        if rows is None:
            return
        data = [{"fingerprint": f, "pseudonym": p, "kind": k} for f, p, k in rows()]
        if data:
            conn.execute(_insert_ignore(conn, t.name_fingerprints), data)

    def name_fingerprints(self) -> list[tuple[str, str, str]]:
        """Stored (fingerprint, pseudonym, kind) rows for pseudonymising notes."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(t.name_fingerprints.c.fingerprint, t.name_fingerprints.c.pseudonym, t.name_fingerprints.c.kind))]

    def key_dir(self) -> Path:
        """Where the pseudonym key file lives: the workspace directory, or for a database
        URL ``~/.config/calibrate`` (teams set ``CALIBRATE_PSEUDONYM_KEY`` instead)."""
        if self.workspace is not None:
            return self.workspace
        path = Path.home() / ".config" / "calibrate"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def note_pseudonymiser(self, conn=None):
        """A pseudonymiser for notes: patterns plus the roster fingerprints stored here.

        ``conn``: a write transaction already open (an import's), which then also records
        the key's id; otherwise a short one of its own does."""
        if self._pseudonymiser is None and self._server_pseudonyms():
            from .pseudonyms import ServerPseudonymiser

            # an assessor's role on a shared store: no key here, the database pseudonymises
            self._pseudonymiser = ServerPseudonymiser(self.engine)
        if self._pseudonymiser is None:
            from .. import privacy

            key = privacy.load_or_create_key(self.key_dir())
            if conn is None:
                with self._write() as own:
                    self._check_key(own, key)
                rows = self.name_fingerprints()
            else:
                self._check_key(conn, key)
                rows = [tuple(r) for r in conn.execute(sa.select(
                    t.name_fingerprints.c.fingerprint, t.name_fingerprints.c.pseudonym, t.name_fingerprints.c.kind))]
            self._pseudonymiser = privacy.Pseudonymiser.from_fingerprints(rows, key=key)
        return self._pseudonymiser

    def _server_pseudonyms(self) -> bool:
        """Whether this connection pseudonymises through the database's functions: a
        PostgreSQL store where they are installed and this role may not read the
        fingerprints (an assessor; :mod:`calibrate.store.pseudonyms`)."""
        if self.engine.dialect.name != "postgresql":
            return False
        from . import pseudonyms

        with self.engine.connect() as conn:
            return pseudonyms.enabled(conn) and not conn.execute(
                sa.text("SELECT has_table_privilege(current_user, 'name_fingerprints', 'SELECT')")).scalar()

    def _check_key(self, conn, key: bytes) -> None:
        """Record the pseudonym key's public id on first use; refuse another key later
        (its pseudonyms would not match the stored ones and names would slip through)."""
        from .. import privacy

        kid = privacy.key_id(key)
        stored = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "pseudonym_key_id")).scalar()
        if stored is None:
            conn.execute(_insert_ignore(conn, t.meta).values(key="pseudonym_key_id", value=kid))
        elif stored != kid:
            raise StoreError(
                f"the pseudonym key ({privacy.KEY_FILENAME} in {self.key_dir()} or {privacy.KEY_ENV}) is not the key "
                f"this database was pseudonymised with (key id {stored}). Restore the original key file or set "
                f"{privacy.KEY_ENV}; nothing was changed."
            )


def _case_id_problems(case_id: str, pseudonymiser) -> list[str]:
    res = pseudonymiser.pseudonymise(case_id)
    return sorted(k for k, v in res.counts.items() if v) if res.text != case_id else []
