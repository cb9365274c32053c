"""Pseudonymising notes inside PostgreSQL: the assessor's app never holds the key.

On a shared PostgreSQL store with per-assessor roles (:mod:`calibrate.store.access`) an
assessor's note is pseudonymised the same way as the case texts — roster names, e-mail
addresses, student numbers … become the same tokens — but without the assessor's app
holding ``CALIBRATE_PSEUDONYM_KEY`` or reading ``name_fingerprints``. With both, a guess
from a class list could be hashed and looked up offline, silently and without limit; for
every case of every session.

Instead the owner (:func:`install`, run by ``enable_row_level_security``) puts the key in
``calibrate_secret`` (no privilege for anyone but the owner) and creates three
``SECURITY DEFINER`` functions, owned by the owner, the only ones assessors may call:

* ``calibrate_pseudonym_lookup(namespaces, values)`` — the roster token of each
  (namespace, normalised value) the pseudonymiser looks up, or NULL; only the namespaces
  the pseudonymiser itself uses;
* ``calibrate_pseudonym_tokens(prefixes, namespaces, values)`` — the keyed token of a
  pattern hit (an e-mail address, a BSN …) or an ambiguous short form; never of a roster
  person;
* ``calibrate_pseudonym_shape()`` — three facts the matching depends on (whether every
  token has its coverage rows; whether a school is on the roster; whether there are
  fingerprints at all).

Each call is written to the server log (``RAISE LOG``: kept even when the caller rolls back)
and to ``calibrate_pseudonym_calls`` (role, time, how many values), which the facilitator can
read. :class:`ServerPseudonymiser` is :class:`calibrate.privacy.Pseudonymiser` with its keyed
operations answered by these functions, so both give the same text.

What remains (docs/privacy.md, "Pseudonyms the assessor cannot reverse"): an assessor who
writes a name in a note and reads the note back learns its token — any pseudonymiser whose
output its writer sees does that. What is gone is the offline, unlimited, unlogged test.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

import sqlalchemy as sa

from ..errors import StoreError
from .. import privacy

META_KEY = "access.server_pseudonyms"
MAX_VALUES = 50_000
"""At most this many values per call (a long note needs a few thousand)."""

#: the namespaces ``Pseudonymiser._lookup`` uses: names, name words, linked numbers/addresses
LOOKUP_NAMESPACES = ("name:i", "name:c", "word", *privacy._PATTERN_PREFIX)
#: the namespaces of keyed tokens that say nothing about the roster (pattern kinds)
TOKEN_NAMESPACES = tuple(privacy._PATTERN_PREFIX)
_ALT = "alt\x1f"  # ambiguous short forms: ``_token(key, prefix, "ambiguous", "alt\x1f" + word)``
_PREFIX_RE = re.compile(r"[a-z][a-z\-]{0,31}")


def _array(values: Iterable[str]) -> str:
    """A text array literal of this module's own constants (letters, ':' and '_' only)."""
    values = list(values)
    if not all(re.fullmatch(r"[a-z_:]+", v) for v in values):
        raise ValueError("namespaces are letters, ':' and '_'")
    return "ARRAY[" + ", ".join("'" + v + "'" for v in values) + "]::text[]"


def _functions() -> list[str]:
    """The functions' DDL as templates for ``psycopg.sql`` (``{s}``: this schema, ``{ext}``:
    pgcrypto's, both filled in as quoted identifiers). Fixed text otherwise: the namespaces
    are this module's constants."""

    def mac(message: str) -> str:
        return "encode({ext}.hmac(convert_to(" + message + ", 'UTF8'), k, 'sha256'), 'hex')"

    head = ("LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$ "
            "DECLARE k bytea; n integer; res text[]; BEGIN ")
    key = ("SELECT pseudonym_key INTO k FROM {s}.calibrate_secret WHERE id = 1; IF k IS NULL THEN "
           "RAISE EXCEPTION 'calibrate: no pseudonym key in the database' USING ERRCODE = '55000'; END IF; ")

    def log(fn: str) -> str:
        # the table row for the facilitator; the server log line stays even if the caller rolls back
        return ("INSERT INTO {s}.calibrate_pseudonym_calls (role, fn, n_values) VALUES (session_user, '" + fn +
                "', n); RAISE LOG 'calibrate: % asked " + fn + " for % values', session_user, n; ")

    count = ("n := coalesce(array_length(vals, 1), 0); "
             "IF n > " + str(MAX_VALUES) + " OR coalesce(array_length(namespaces, 1), 0) <> n THEN RAISE EXCEPTION "
             "'calibrate: namespaces and values must pair up, at most " + str(MAX_VALUES) +
             "' USING ERRCODE = '22023'; END IF; ")
    refuse = "USING ERRCODE = '42501'; END IF; "
    # the messages privacy.Pseudonymiser hashes: "fp:<namespace>\x1f<value>" and "<namespace>\x1f<value>"
    fp_of_value = mac("'fp:' || u.ns || chr(31) || coalesce(u.v, '')")
    token_mac = mac("u.ns || chr(31) || u.v")
    fp_covered = mac("'fp:" + privacy._COVERED + "' || chr(31) || p.pseudonym")
    lookup = (
        "CREATE OR REPLACE FUNCTION {s}.calibrate_pseudonym_lookup(namespaces text[], vals text[]) RETURNS text[] "
        + head + count +
        "IF EXISTS (SELECT 1 FROM unnest(namespaces) x WHERE x IS NULL OR NOT x = ANY (" + _array(LOOKUP_NAMESPACES) +
        ")) THEN RAISE EXCEPTION 'calibrate: not a look-up the pseudonymiser makes' " + refuse + key + log("lookup") +
        "SELECT array_agg(f.pseudonym ORDER BY u.ord) INTO res FROM unnest(namespaces, vals) WITH ORDINALITY AS u(ns, v, ord) "
        "LEFT JOIN {s}.name_fingerprints f ON f.fingerprint = " + fp_of_value + "; "
        "RETURN coalesce(res, ARRAY[]::text[]); END $fn$"
    )
    tokens = (
        "CREATE OR REPLACE FUNCTION {s}.calibrate_pseudonym_tokens(prefixes text[], namespaces text[], vals text[]) "
        "RETURNS text[] " + head + count +
        "IF coalesce(array_length(prefixes, 1), 0) <> n OR EXISTS (SELECT 1 FROM unnest(prefixes, namespaces, vals) "
        "AS u(p, ns, v) WHERE u.p IS NULL OR u.p !~ '^[a-z][a-z-]{{0,31}}$' OR u.v IS NULL OR NOT "
        "(u.ns = ANY (" + _array(TOKEN_NAMESPACES) + ") OR (u.ns = 'ambiguous' AND left(u.v, 4) = 'alt' || chr(31)))) "
        "THEN RAISE EXCEPTION 'calibrate: not a token the pseudonymiser makes' " + refuse + key + log("tokens") +
        "SELECT array_agg('[' || u.p || '-' || upper(left(" + token_mac + ", " + str(privacy._HEX_DIGITS) + ")) "
        "|| ']' ORDER BY u.ord) INTO res FROM unnest(prefixes, namespaces, vals) WITH ORDINALITY AS u(p, ns, v, ord); "
        "RETURN coalesce(res, ARRAY[]::text[]); END $fn$"
    )
    shape = (
        "CREATE OR REPLACE FUNCTION {s}.calibrate_pseudonym_shape() RETURNS boolean[] "
        + head.replace("res text[];", "words boolean; schools boolean;") + key +
        "SELECT count(*) > 0 AND coalesce(bool_and(EXISTS (SELECT 1 FROM {s}.name_fingerprints c WHERE c.fingerprint = "
        + fp_covered + ")), false) INTO words FROM (SELECT DISTINCT pseudonym FROM {s}.name_fingerprints) p; "
        "SELECT EXISTS (SELECT 1 FROM {s}.name_fingerprints WHERE kind = 'school') INTO schools; "
        "RETURN ARRAY[words, schools, EXISTS (SELECT 1 FROM {s}.name_fingerprints)]; END $fn$"
    )
    return [lookup, tokens, shape]


_SIGNATURES = ("calibrate_pseudonym_lookup(text[], text[])", "calibrate_pseudonym_tokens(text[], text[], text[])",
               "calibrate_pseudonym_shape()")


def install(conn: sa.Connection, key: bytes, group: str) -> None:
    """Put ``key`` in the database for the functions above and let ``group`` call them
    instead of reading ``name_fingerprints`` (PostgreSQL, as the owner, inside
    ``enable_row_level_security``'s transaction). Idempotent; a second key is refused."""
    from .access import _ddl, _ident, _set_meta

    key = privacy._check_key(key)
    try:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    except sa.exc.ProgrammingError as exc:
        raise StoreError(
            "pseudonymising notes inside the database needs the extension pgcrypto, which this role may not "
            f"create ({' '.join(str(exc.orig).split())[:160]}). Ask a DBA to run CREATE EXTENSION pgcrypto in this "
            "database, then enable row-level security again; nothing was changed."
        ) from None
    ext_schema = conn.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto'"
    )).scalar_one()
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    names = {"s": _ident(schema), "ext": _ident(ext_schema), "g": _ident(group)}
    _ddl(conn, "CREATE TABLE IF NOT EXISTS {s}.calibrate_secret (id integer PRIMARY KEY CHECK (id = 1), "
               "pseudonym_key bytea NOT NULL)", **names)
    _ddl(conn, "CREATE TABLE IF NOT EXISTS {s}.calibrate_pseudonym_calls (id bigint GENERATED ALWAYS AS IDENTITY "
               "PRIMARY KEY, called_at timestamptz NOT NULL DEFAULT now(), role text NOT NULL, fn text NOT NULL, "
               "n_values integer NOT NULL)", **names)
    for table in ("calibrate_secret", "calibrate_pseudonym_calls"):
        _ddl(conn, "REVOKE ALL ON TABLE {t} FROM PUBLIC, {g}", t=_ident(table), g=names["g"])
    stored = conn.execute(sa.text("SELECT pseudonym_key FROM calibrate_secret WHERE id = 1")).scalar()
    if stored is None:
        conn.execute(sa.text("INSERT INTO calibrate_secret (id, pseudonym_key) VALUES (1, :k)"), {"k": key})
    elif bytes(stored) != key:
        raise StoreError(
            "the database already holds another pseudonym key than the one in use here "
            f"({privacy.KEY_ENV} or {privacy.KEY_FILENAME}); restore the original key. Nothing was changed."
        )
    for template in _functions():
        _ddl(conn, template, **names)
    for sig in _SIGNATURES:
        _ddl(conn, "REVOKE ALL ON FUNCTION {s}." + sig + " FROM PUBLIC", **names)
        _ddl(conn, "GRANT EXECUTE ON FUNCTION {s}." + sig + " TO {g}", **names)
    _ddl(conn, "REVOKE ALL ON TABLE {t} FROM {g}", t=_ident("name_fingerprints"), g=names["g"])
    _set_meta(conn, META_KEY, "1")


def enabled(conn) -> bool:
    """Whether notes are pseudonymised by the database's functions (see :func:`install`)."""
    from . import schema as t

    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == META_KEY)).scalar() == "1"


class ServerPseudonymiser(privacy.Pseudonymiser):
    """:class:`calibrate.privacy.Pseudonymiser` without the key: its keyed look-ups and
    tokens are answered by the database (:func:`install`).

    The matching runs here, unchanged; each :meth:`pseudonymise` first runs it with what is
    known, collects the look-ups and tokens it lacked, asks the database for all of them in
    one call and runs again, until nothing is lacking (two or three calls for a note; what
    was learnt is kept for later notes)."""

    def __init__(self, engine: sa.Engine, *, student_numbers=None, diminutives=None):
        self._engine = engine
        self._key = None
        self._rows = ()
        self._table = {}
        self._patterns = privacy._patterns(student_numbers)
        self._expansions = privacy._expansions_for(diminutives)
        self._cache = {}
        self._word_cache = {}
        self._known: dict[tuple[str, str], str | None] = {}
        self._tokens: dict[tuple[str, str, str], str] = {}
        self._want_lookups: dict[tuple[str, str], None] = {}
        self._want_tokens: dict[tuple[str, str, str], None] = {}
        with engine.connect() as conn:
            words, schools, rows = conn.execute(sa.text("SELECT calibrate_pseudonym_shape()")).scalar_one()
        # the matching looks for names only when there are fingerprints: say so without them
        self._table = {"(kept in the database)": None} if rows else {}
        self._words = bool(words)
        self._prefilter = self._words or not schools

    def __repr__(self) -> str:
        return "ServerPseudonymiser(key and fingerprints in the database)"

    def fingerprint_rows(self):
        return []

    def _fp(self, namespace: str, value: str) -> str:  # pragma: no cover - never called without a table
        raise StoreError("this pseudonymiser holds no key; the database makes the fingerprints.")

    def _lookup(self, namespace: str, value: str) -> str | None:
        k = (namespace, value)
        if k in self._known:
            return self._known[k]
        self._want_lookups[k] = None
        return None

    def _keyed_token(self, prefix: str, namespace: str, value: str) -> str:
        k = (prefix, namespace, value)
        hit = self._tokens.get(k)
        if hit is None:
            self._want_tokens[k] = None
            return f"[{prefix}-{'0' * privacy._HEX_DIGITS}]"  # a stand-in until the database answers
        return hit

    def _ask(self) -> None:
        lookups, tokens = list(self._want_lookups), list(self._want_tokens)
        self._want_lookups.clear()
        self._want_tokens.clear()
        with self._engine.connect() as conn:
            if lookups:
                got = conn.execute(sa.text("SELECT calibrate_pseudonym_lookup(:ns, :vals)"),
                                   {"ns": [n for n, _ in lookups], "vals": [v for _, v in lookups]}).scalar_one()
                self._known.update(zip(lookups, got))
            if tokens:
                got = conn.execute(sa.text("SELECT calibrate_pseudonym_tokens(:p, :ns, :vals)"),
                                   {"p": [p for p, _, _ in tokens], "ns": [n for _, n, _ in tokens],
                                    "vals": [v for _, _, v in tokens]}).scalar_one()
                self._tokens.update(zip(tokens, got))
            conn.commit()  # the call log
        if len(self._known) > privacy._CACHE_LIMIT:
            self._known.clear()
        self._word_cache.clear()  # word facts were made with what was not yet known

    def _settled(self, run: Callable[[], object]):
        for _ in range(12):
            out = run()
            if not (self._want_lookups or self._want_tokens):
                return out
            self._ask()
        raise StoreError("pseudonymising a note did not settle; nothing was saved.")

    def pseudonymise(self, text: str):
        return self._settled(lambda: privacy.Pseudonymiser.pseudonymise(self, text))

    def find_suspects(self, text: str):
        return self._settled(lambda: privacy.Pseudonymiser.find_suspects(self, text))

    def check_identifier(self, value: str, *, field: str = "id"):
        return self._settled(lambda: privacy.Pseudonymiser.check_identifier(self, value, field=field))


def calls(store) -> list[dict]:
    """The log of the functions' calls (role, time, function, number of values): the
    facilitator's view of who asked how much."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT role, called_at, fn, n_values FROM calibrate_pseudonym_calls ORDER BY id"))
        return [dict(r._mapping) for r in rows]


__all__: Sequence[str] = ("ServerPseudonymiser", "calls", "enabled", "install")
