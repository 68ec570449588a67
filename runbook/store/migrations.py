"""Versioned schemas. ``SQLITE[n - 1]`` / ``POSTGRES[n - 1]`` bring a store from version n - 1 to
n; a store records its version in ``meta.schema_version``. Append new versions at the end; never
edit a released one. ``runbook store init|migrate --db URL`` applies them; a writer opening an
older store applies them too, under the store's write lock.
"""

from __future__ import annotations

_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, '{t} are append-only'); END"

SQLITE: list[list[str]] = [
    # 1: runs and their append-only events
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE runs (id TEXT PRIMARY KEY, runbook_id TEXT NOT NULL, title TEXT NOT NULL,
            label TEXT NOT NULL, created_at_us INTEGER NOT NULL, source_name TEXT NOT NULL,
            source_text TEXT NOT NULL, meta TEXT NOT NULL)""",
        "CREATE INDEX runs_by_runbook ON runs (runbook_id, created_at_us)",
        """CREATE TABLE events (run_id TEXT NOT NULL REFERENCES runs (id), seq INTEGER NOT NULL
            CHECK (seq >= 1), event_id TEXT NOT NULL UNIQUE, at_us INTEGER NOT NULL,
            actor TEXT NOT NULL, host TEXT NOT NULL, type TEXT NOT NULL, step TEXT,
            payload TEXT NOT NULL, PRIMARY KEY (run_id, seq))""",
        *(f"CREATE TRIGGER {t}_no_{op} BEFORE {op.upper()} ON {t} " + _APPEND_ONLY.format(t=t)
          for t in ("runs", "events") for op in ("update", "delete")),
    ],
    # 2: finding a runbook's unfinished run reads the events by type
    ["CREATE INDEX events_by_type ON events (run_id, type)"],
]

# (what, query returning the first malformed row's id): a writer checks these before writing
SQLITE_BAD_ROWS = [
    ("run", """SELECT id FROM runs WHERE typeof(id) != 'text' OR typeof(runbook_id) != 'text'
        OR typeof(title) != 'text' OR label NOT IN ('live', 'rehearsal')
        OR typeof(created_at_us) != 'integer' OR typeof(source_name) != 'text'
        OR typeof(source_text) != 'text' OR typeof(meta) != 'text' OR NOT json_valid(meta)
        OR json_type(meta) != 'object' LIMIT 1"""),
    ("event", """SELECT run_id || ' #' || seq FROM events WHERE typeof(run_id) != 'text'
        OR typeof(seq) != 'integer' OR typeof(event_id) != 'text' OR typeof(at_us) != 'integer'
        OR typeof(actor) != 'text' OR typeof(host) != 'text' OR typeof(type) != 'text'
        OR (step IS NOT NULL AND typeof(step) != 'text') OR typeof(payload) != 'text'
        OR NOT json_valid(payload) OR json_type(payload) != 'object' LIMIT 1"""),
]

_PG_APPEND_ONLY = """CREATE FUNCTION runbook_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION '% are append-only', TG_TABLE_NAME; END $$"""

POSTGRES: list[list[str]] = [
    # 1: runs and their append-only events; instants as microseconds since the epoch, UTC
    [
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        """CREATE TABLE runs (id text PRIMARY KEY, runbook_id text NOT NULL, title text NOT NULL,
            label text NOT NULL CHECK (label IN ('live', 'rehearsal')),
            created_at_us bigint NOT NULL, source_name text NOT NULL, source_text text NOT NULL,
            meta json NOT NULL CHECK (json_typeof(meta) = 'object'),
            ord bigserial NOT NULL UNIQUE)""",
        "CREATE INDEX runs_by_runbook ON runs (runbook_id, created_at_us)",
        """CREATE TABLE events (run_id text NOT NULL REFERENCES runs (id),
            seq bigint NOT NULL CHECK (seq >= 1), event_id text NOT NULL UNIQUE,
            at_us bigint NOT NULL, actor text NOT NULL, host text NOT NULL, type text NOT NULL,
            step text, payload json NOT NULL CHECK (json_typeof(payload) = 'object'),
            PRIMARY KEY (run_id, seq))""",
        "CREATE INDEX events_by_type ON events (run_id, type)",
        _PG_APPEND_ONLY,
        *(f"""CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {t}
             FOR EACH STATEMENT EXECUTE FUNCTION runbook_append_only()"""
          for t in ("runs", "events")),
    ],
]
