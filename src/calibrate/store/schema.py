"""The workspace database schema (SQLAlchemy Core) and its version.

Judgements and consensus judgements are append-only: a save adds a row with its
time; the latest row per (session, case, rater, item) is current, earlier rows are
the audit history.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 4
"""Version of the tables below. Bump it and add an upgrade step in
``calibrate.store.migrations`` whenever a table changes.

* 1 — calibrate 0.1.0.
* 2 — a judgement's session and case must be a pair in ``session_cases`` and its session
  and rater a pair in ``session_raters`` (composite foreign keys instead of one per
  column): the database itself admits judgements only by a session's assessors on the
  session's cases, with one key check fewer per row on every save.
* 3 — every value within its item's scale (``kind_values``, ``item_values``, triggers);
  ``sessions.revealed_at``.
* 4 — SQLite: a change counter (``meta`` key :data:`GENERATION_KEY`) that triggers raise
  whenever a judgement or consensus row is updated or deleted, so the columnar snapshot
  of the current judgements (:mod:`calibrate.store.snapshot`) knows when it is stale.
  PostgreSQL: no change (the snapshot is SQLite-only).
"""

metadata = sa.MetaData()

JUDGEMENT_CASE_FK = "fk_judgements_session_case"
JUDGEMENT_RATER_FK = "fk_judgements_session_rater"

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

frameworks = sa.Table(
    "frameworks",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("loaded_at", sa.String(40), nullable=False),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("framework_id", sa.String(128), sa.ForeignKey("frameworks.id"), nullable=True),
    sa.Column("label", sa.Text, nullable=True),
    sa.CheckConstraint("kind IN ('indicator','level','phase','verdict','decision')", name="ck_items_kind"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("session_date", sa.String(10), nullable=False),
    sa.Column("framework_id", sa.String(128), sa.ForeignKey("frameworks.id"), nullable=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("revealed", sa.Boolean, nullable=False, default=False),
    sa.Column("show_rater_names", sa.Boolean, nullable=False, default=False),
    sa.Column("parent_id", sa.String(255), sa.ForeignKey("sessions.id"), nullable=True),
    sa.Column("round", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.String(40), nullable=False),
    # when the reveal closed the blind round (None: not revealed, or revealed before version 3)
    sa.Column("revealed_at", sa.String(40), nullable=True),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("material", sa.Text, nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
)

raters = sa.Table(
    "raters",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("role", sa.String(64), nullable=True),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
)

session_cases = sa.Table(
    "session_cases",
    metadata,
    sa.Column("session_id", sa.String(255), sa.ForeignKey("sessions.id"), primary_key=True),
    sa.Column("case_id", sa.String(255), sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)

session_raters = sa.Table(
    "session_raters",
    metadata,
    sa.Column("session_id", sa.String(255), sa.ForeignKey("sessions.id"), primary_key=True),
    sa.Column("rater_id", sa.String(255), sa.ForeignKey("raters.id"), primary_key=True),
)

judgements = sa.Table(
    "judgements",
    metadata,
    # PostgreSQL: GENERATED ALWAYS AS IDENTITY, so an id is the database's to give (an
    # assessor's INSERT privilege leaves out the column); SQLite: the rowid
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), sa.Identity(always=True), primary_key=True,
              autoincrement=True),
    sa.Column("session_id", sa.String(255), nullable=False),
    sa.Column("case_id", sa.String(255), nullable=False),
    sa.Column("rater_id", sa.String(255), nullable=False),
    sa.Column("item_id", sa.String(255), sa.ForeignKey("items.id"), nullable=False),
    sa.Column("value", sa.String(64), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("scored_at", sa.String(40), nullable=False),
    sa.Column("saved_at", sa.String(40), nullable=False),
    sa.Column("source", sa.String(255), nullable=True),
    # the session's case and the session's assessor (which also reference sessions, cases
    # and raters): two key checks per row instead of three, and membership is enforced
    sa.ForeignKeyConstraint(["session_id", "case_id"], ["session_cases.session_id", "session_cases.case_id"],
                            name=JUDGEMENT_CASE_FK),
    sa.ForeignKeyConstraint(["session_id", "rater_id"], ["session_raters.session_id", "session_raters.rater_id"],
                            name=JUDGEMENT_RATER_FK),
    sa.Index("ix_judgements_key", "session_id", "case_id", "rater_id", "item_id", "id"),
)

consensus = sa.Table(
    "consensus",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(255), sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("case_id", sa.String(255), sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("item_id", sa.String(255), sa.ForeignKey("items.id"), nullable=False),
    sa.Column("value", sa.String(64), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("scored_at", sa.String(40), nullable=False),
    sa.Column("saved_at", sa.String(40), nullable=False),
    sa.Column("source", sa.String(255), nullable=True),
    sa.Index("ix_consensus_key", "session_id", "case_id", "item_id", "id"),
)

kind_values = sa.Table(
    "kind_values",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("value", sa.String(64), primary_key=True),
)
"""The contract's codes per kind (CONTRACTS §1): the scale an item gets when it is added
without a framework (a researcher's own item ids)."""

item_values = sa.Table(
    "item_values",
    metadata,
    sa.Column("item_id", sa.String(255), sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("value", sa.String(64), primary_key=True),
)
"""Every value a judgement of an item may take; the triggers of :data:`SCALE_TRIGGERS`
refuse any other (a judgement without a value, only a note, stays possible)."""

name_fingerprints = sa.Table(
    "name_fingerprints",
    metadata,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("pseudonym", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
)
"""Keyed fingerprints of roster names (never the names) so that notes saved later can be
pseudonymised the same way as the case texts."""


GENERATION_KEY = "rows_generation"
"""The ``meta`` key whose value changes whenever a stored judgement or consensus row is
updated or deleted (schema version 4, SQLite): ``<counter>-<random hex>``, so two copies of
a file edited apart never share a value."""


def generation_triggers(dialect: str) -> list[str]:
    """DDL of the triggers that change :data:`GENERATION_KEY` after an UPDATE or DELETE of
    a judgement or consensus row (SQLite; none on PostgreSQL, where no snapshot is kept —
    and an assessor's role may not write ``meta``)."""
    if dialect != "sqlite":
        return []
    bump = (f"UPDATE meta SET value = (CAST(value AS INTEGER) + 1) || '-' || lower(hex(randomblob(6))) "
            f"WHERE key = '{GENERATION_KEY}'")
    return [f"CREATE TRIGGER IF NOT EXISTS calibrate_{table}_generation_{event.lower()} AFTER {event} ON {table} "
            f"BEGIN {bump}; END"
            for table in ("judgements", "consensus") for event in ("UPDATE", "DELETE")]


SCALE_MESSAGE = "calibrate: value outside the scale of its item"
"""What the database says when a value outside its item's scale is written (no value is
quoted: the database's message may reach a log)."""


def scale_triggers(dialect: str) -> list[str]:
    """DDL of the triggers that keep every judgement and consensus value within its item's
    scale (schema version 3), for ``dialect`` (``sqlite`` or ``postgresql``).

    SQLite: one trigger per row (before insert, before update of the item or the value).
    PostgreSQL: one trigger per statement with a transition table, so a bulk import of a
    million rows is checked by one anti-join instead of a function call per row.
    """
    fill_items = (
        "INSERT INTO item_values (item_id, value) SELECT NEW.id, kv.value FROM kind_values kv "
        "WHERE kv.kind = NEW.kind"
    )
    if dialect == "sqlite":
        out = [f"CREATE TRIGGER IF NOT EXISTS calibrate_items_scale AFTER INSERT ON items "
               f"BEGIN {fill_items.replace('INSERT INTO', 'INSERT OR IGNORE INTO')}; END"]
        for table in ("judgements", "consensus"):
            for when, event in (("insert", "INSERT"), ("update", "UPDATE OF item_id, value")):
                out.append(
                    f"CREATE TRIGGER IF NOT EXISTS calibrate_{table}_scale_{when} BEFORE {event} ON {table} "
                    "WHEN NEW.value IS NOT NULL AND NOT EXISTS (SELECT 1 FROM item_values v "
                    "WHERE v.item_id = NEW.item_id AND v.value = NEW.value) "
                    f"BEGIN SELECT RAISE(ABORT, '{SCALE_MESSAGE}'); END"
                )
        return out
    out = [
        "CREATE OR REPLACE FUNCTION calibrate_item_scale() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {fill_items} ON CONFLICT DO NOTHING; RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS calibrate_items_scale ON items",
        "CREATE TRIGGER calibrate_items_scale AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION calibrate_item_scale()",
        "CREATE OR REPLACE FUNCTION calibrate_check_scale() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF EXISTS (SELECT 1 FROM new_rows n WHERE n.value IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM item_values v WHERE v.item_id = n.item_id AND v.value = n.value)) THEN "
        f"RAISE EXCEPTION '{SCALE_MESSAGE}' USING ERRCODE = '23514'; END IF; RETURN NULL; END $$",
    ]
    for table in ("judgements", "consensus"):
        for when in ("insert", "update"):
            name = f"calibrate_{table}_scale_{when}"
            out += [f"DROP TRIGGER IF EXISTS {name} ON {table}",
                    f"CREATE TRIGGER {name} AFTER {when.upper()} ON {table} REFERENCING NEW TABLE AS new_rows "
                    "FOR EACH STATEMENT EXECUTE FUNCTION calibrate_check_scale()"]
    return out


def kind_value_rows() -> list[dict]:
    """The rows of :data:`kind_values`: the contract's codes of every kind."""
    from ..schema import KINDS, allowed_values

    return [{"kind": k, "value": v} for k in KINDS for v in allowed_values(k)]
