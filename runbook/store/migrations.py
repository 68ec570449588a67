"""Versioned schemas. ``SQLITE[n - 1]`` / ``POSTGRES[n - 1]`` bring a store from version n - 1 to
n; a store records its version in ``meta.schema_version``. Append new versions at the end; never
edit a released one. ``runbook store init|migrate --db URL`` applies them; a writer opening an
older store applies them too, under the store's write lock.
"""

from __future__ import annotations

from runbook.store.base import ENDINGS, LABELS

_LABEL_LIST = ", ".join(f"'{label}'" for label in LABELS)
_ENDING_LIST = ", ".join(f"'{t}'" for t in ENDINGS)
_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, '{t} are append-only'); END"
# version 4 (SQLite) / 3 (PostgreSQL): what a big store answers without reading every run
#   run_opened / run_ended: the n-th run of a runbook / the n-th of its runs to end (its first
#     run_finished or run_aborted), written by triggers in the transaction that inserts the run or
#     the event, so "has this runbook an unfinished run?" is max(n) against max(n): two index
#     lookups however many runs the store holds. Existing runs and endings are numbered on migrate.
#   run_summaries: what `runs` and the forecast prior need of a run, derived by the engine from
#     the run's events in the transaction that appends its last event (the finish); valid while
#     its seq is still the run's last one. Each is written once; runs without one are folded.
#     ``summary`` is what a listing needs, ``detail`` the rest (per step), read only when asked.
_SUMMARY_TABLES = ("run_opened", "run_ended", "run_summaries")

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
    # 3: runs may be labelled 'history' (past windows imported by `runbook history import`);
    # no table changes, but a runbook that knows only versions 1-2 must refuse such a store as
    # newer rather than call its history rows malformed
    [],
    # 4: run counts per runbook and stored run summaries (see above)
    [
        """CREATE TABLE run_opened (runbook_id TEXT NOT NULL, n INTEGER NOT NULL,
            run_id TEXT NOT NULL UNIQUE REFERENCES runs (id), PRIMARY KEY (runbook_id, n))""",
        """CREATE TABLE run_ended (runbook_id TEXT NOT NULL, n INTEGER NOT NULL,
            run_id TEXT NOT NULL UNIQUE REFERENCES runs (id), PRIMARY KEY (runbook_id, n))""",
        """CREATE TABLE run_summaries (run_id TEXT NOT NULL, seq INTEGER NOT NULL,
            version INTEGER NOT NULL, summary TEXT NOT NULL, detail TEXT NOT NULL,
            PRIMARY KEY (run_id, seq, version),
            FOREIGN KEY (run_id, seq) REFERENCES events (run_id, seq))""",
        """INSERT INTO run_opened (runbook_id, n, run_id) SELECT runbook_id,
            row_number() OVER (PARTITION BY runbook_id ORDER BY rowid), id FROM runs""",
        f"""INSERT INTO run_ended (runbook_id, n, run_id) SELECT r.runbook_id,
            row_number() OVER (PARTITION BY r.runbook_id ORDER BY e.at, e.run_id), r.id
            FROM (SELECT run_id, min(rowid) AS at FROM events WHERE type IN ({_ENDING_LIST})
                  GROUP BY run_id) AS e JOIN runs AS r ON r.id = e.run_id""",
        """CREATE TRIGGER runs_opened AFTER INSERT ON runs BEGIN
            INSERT INTO run_opened (runbook_id, n, run_id) VALUES (NEW.runbook_id, coalesce((
                SELECT max(n) FROM run_opened WHERE runbook_id = NEW.runbook_id), 0) + 1, NEW.id);
            END""",
        f"""CREATE TRIGGER events_ended AFTER INSERT ON events WHEN NEW.type IN ({_ENDING_LIST})
            AND NOT EXISTS (SELECT 1 FROM run_ended WHERE run_id = NEW.run_id) BEGIN
            INSERT INTO run_ended (runbook_id, n, run_id) SELECT r.runbook_id, coalesce((
                SELECT max(n) FROM run_ended WHERE runbook_id = r.runbook_id), 0) + 1, r.id
                FROM runs AS r WHERE r.id = NEW.run_id;
            END""",
        *(f"CREATE TRIGGER {t}_no_{op} BEFORE {op.upper()} ON {t} " + _APPEND_ONLY.format(t=t)
          for t in _SUMMARY_TABLES for op in ("update", "delete")),
    ],
]

# (table, what, its id in messages, what makes a row malformed): a writer checks the rows added
# since the last writer checked (``meta.verified``: the rowid it checked up to, per table) before
# it writes
_COUNT_BAD = "typeof(runbook_id) != 'text' OR typeof(n) != 'integer' OR typeof(run_id) != 'text'"
SQLITE_BAD_ROWS = [
    ("runs", "run", "id", f"""typeof(id) != 'text' OR typeof(runbook_id) != 'text'
        OR typeof(title) != 'text' OR label NOT IN ({_LABEL_LIST})
        OR typeof(created_at_us) != 'integer' OR typeof(source_name) != 'text'
        OR typeof(source_text) != 'text' OR typeof(meta) != 'text' OR NOT json_valid(meta)
        OR json_type(meta) != 'object'"""),
    ("events", "event", "run_id || ' #' || seq", """typeof(run_id) != 'text'
        OR typeof(seq) != 'integer' OR typeof(event_id) != 'text' OR typeof(at_us) != 'integer'
        OR typeof(actor) != 'text' OR typeof(host) != 'text' OR typeof(type) != 'text'
        OR (step IS NOT NULL AND typeof(step) != 'text') OR typeof(payload) != 'text'
        OR NOT json_valid(payload) OR json_type(payload) != 'object'"""),
    ("run_summaries", "run summary", "run_id || ' #' || seq", """typeof(run_id) != 'text'
        OR typeof(seq) != 'integer' OR typeof(version) != 'integer' OR typeof(summary) != 'text'
        OR NOT json_valid(summary) OR json_type(summary) != 'object' OR typeof(detail) != 'text'
        OR NOT json_valid(detail) OR json_type(detail) != 'object'"""),
    ("run_opened", "run count", "run_id", _COUNT_BAD),
    ("run_ended", "run count", "run_id", _COUNT_BAD),
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
    # 2: runs may be labelled 'history' (past windows imported by `runbook history import`)
    ["ALTER TABLE runs DROP CONSTRAINT runs_label_check",
     "ALTER TABLE runs ADD CONSTRAINT runs_label_check CHECK (label IN "
     "('live', 'rehearsal', 'history'))"],
    # 3: run counts per runbook and stored run summaries (see above). Two transactions numbering
    # runs of one runbook at once take turns on an advisory lock, so n stays 1, 2, 3 ...
    [
        """CREATE TABLE run_opened (runbook_id text NOT NULL, n bigint NOT NULL,
            run_id text NOT NULL UNIQUE REFERENCES runs (id), PRIMARY KEY (runbook_id, n))""",
        """CREATE TABLE run_ended (runbook_id text NOT NULL, n bigint NOT NULL,
            run_id text NOT NULL UNIQUE REFERENCES runs (id), PRIMARY KEY (runbook_id, n))""",
        """CREATE TABLE run_summaries (run_id text NOT NULL, seq bigint NOT NULL,
            version integer NOT NULL,
            summary json NOT NULL CHECK (json_typeof(summary) = 'object'),
            detail json NOT NULL CHECK (json_typeof(detail) = 'object'),
            PRIMARY KEY (run_id, seq, version),
            FOREIGN KEY (run_id, seq) REFERENCES events (run_id, seq))""",
        """INSERT INTO run_opened (runbook_id, n, run_id) SELECT runbook_id,
            row_number() OVER (PARTITION BY runbook_id ORDER BY ord), id FROM runs""",
        f"""INSERT INTO run_ended (runbook_id, n, run_id) SELECT r.runbook_id,
            row_number() OVER (PARTITION BY r.runbook_id ORDER BY r.ord), r.id
            FROM runs AS r WHERE EXISTS (SELECT 1 FROM events AS e WHERE e.run_id = r.id
                                         AND e.type IN ({_ENDING_LIST}))""",
        """CREATE FUNCTION runbook_count_run() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE book text;
            BEGIN
                IF TG_TABLE_NAME = 'runs' THEN
                    book := NEW.runbook_id;
                ELSE
                    SELECT runbook_id INTO book FROM runs WHERE id = NEW.run_id;
                    IF EXISTS (SELECT 1 FROM run_ended WHERE run_id = NEW.run_id) THEN
                        RETURN NULL;
                    END IF;
                END IF;
                PERFORM pg_advisory_xact_lock(hashtextextended('runbook:count:' || book, 0));
                IF TG_TABLE_NAME = 'runs' THEN
                    INSERT INTO run_opened SELECT book, coalesce(max(n), 0) + 1, NEW.id
                        FROM run_opened WHERE runbook_id = book;
                ELSE
                    INSERT INTO run_ended SELECT book, coalesce(max(n), 0) + 1, NEW.run_id
                        FROM run_ended WHERE runbook_id = book
                        ON CONFLICT (run_id) DO NOTHING;
                END IF;
                RETURN NULL;
            END $$""",
        """CREATE TRIGGER runs_opened AFTER INSERT ON runs FOR EACH ROW
            EXECUTE FUNCTION runbook_count_run()""",
        f"""CREATE TRIGGER events_ended AFTER INSERT ON events FOR EACH ROW
            WHEN (NEW.type IN ({_ENDING_LIST})) EXECUTE FUNCTION runbook_count_run()""",
        *(f"""CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {t}
             FOR EACH STATEMENT EXECUTE FUNCTION runbook_append_only()"""
          for t in _SUMMARY_TABLES),
    ],
]
