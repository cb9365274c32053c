"""The workspace database schema (SQLAlchemy Core) and its version.

Judgements and consensus judgements are append-only: a save adds a row with its
time; the latest row per (session, case, rater, item) is current, earlier rows are
the audit history.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 2
"""Version of the tables below. Bump it and add an upgrade step in
``calibrate.store.migrations`` whenever a table changes.

* 1 — calibrate 0.1.0.
* 2 — a judgement's session and case must be a pair in ``session_cases`` and its session
  and rater a pair in ``session_raters`` (composite foreign keys instead of one per
  column): the database itself admits judgements only by a session's assessors on the
  session's cases, with one key check fewer per row on every save.
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
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
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

name_fingerprints = sa.Table(
    "name_fingerprints",
    metadata,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("pseudonym", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
)
"""Keyed fingerprints of roster names (never the names) so that notes saved later can be
pseudonymised the same way as the case texts."""
