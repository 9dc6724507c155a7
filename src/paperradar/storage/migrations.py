"""Schema migrations for the SQLite library, applied in order inside one transaction each.

`PRAGMA user_version` holds the number of migrations applied. Does I/O (the database).
"""

from __future__ import annotations

import sqlite3

# The month of a paper's arXiv id, in SQL: 'arxiv:1804.06498' -> '2018-04', 'arxiv:hep-th/9901001'
# -> '1999-01'; NULL for other ids (used by migration 12)
_ID_MONTH = """(CASE
    WHEN id GLOB 'arxiv:[0-9][0-9][0-9][0-9].[0-9]*' THEN '20' || substr(id, 7, 2) || '-' || substr(id, 9, 2)
    WHEN id GLOB 'arxiv:*/[0-9][0-9][0-9][0-9][0-9][0-9][0-9]*' THEN
        (CASE WHEN CAST(substr(id, instr(id, '/') + 1, 2) AS INTEGER) >= 91 THEN '19' ELSE '20' END)
        || substr(id, instr(id, '/') + 1, 2) || '-' || substr(id, instr(id, '/') + 3, 2)
    END)"""

MIGRATIONS: list[str] = [
    # 1: papers, aliases, source records, corrections, import log, full-text index
    """
    CREATE TABLE papers (
        pk INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        title TEXT,
        abstract TEXT,
        authors TEXT,
        title_key TEXT,
        year INTEGER,
        date TEXT,  -- the best known date with a year (ISO, maybe partial), for sorting
        weak INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL,  -- the other chosen fields, ids and provenance (JSON)
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX papers_title_key ON papers(title_key);
    CREATE INDEX papers_date ON papers(date);
    CREATE INDEX papers_weak ON papers(weak) WHERE weak = 1;
    CREATE TABLE aliases (
        alias TEXT PRIMARY KEY,
        paper_pk INTEGER NOT NULL REFERENCES papers(pk)
    ) WITHOUT ROWID;
    CREATE INDEX aliases_paper ON aliases(paper_pk);
    CREATE TABLE records (
        pk INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        paper_pk INTEGER NOT NULL REFERENCES papers(pk),
        importer TEXT NOT NULL,
        path TEXT NOT NULL,
        line INTEGER,
        imported_at TEXT NOT NULL,
        fields TEXT NOT NULL,
        raw BLOB NOT NULL  -- the source text exactly as read, zlib-compressed
    );
    CREATE INDEX records_paper ON records(paper_pk);
    CREATE TABLE corrections (
        pk INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('merge', 'split')),
        record_a TEXT NOT NULL,
        record_b TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (kind, record_a, record_b)
    );
    CREATE TABLE imports (
        pk INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        importer TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        counts TEXT NOT NULL
    );
    -- inserts reach papers_fts from SQLiteLibrary.insert_papers (a bulk executemany is twice as fast
    -- as a trigger); updates and deletes through these triggers
    CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, authors,
        content='papers', content_rowid='pk',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER papers_ad AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.pk, old.title, old.abstract, old.authors);
    END;
    CREATE TRIGGER papers_au AFTER UPDATE OF title, abstract, authors ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors)
        VALUES ('delete', old.pk, old.title, old.abstract, old.authors);
        INSERT INTO papers_fts(rowid, title, abstract, authors)
        VALUES (new.pk, new.title, new.abstract, new.authors);
    END;
    """,
    # 2: embeddings, one per paper and model, with the hash of the text they were made from
    """
    CREATE TABLE embeddings (
        paper_pk INTEGER NOT NULL REFERENCES papers(pk) ON DELETE CASCADE,
        model_id TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL,  -- float32, L2-normalised
        PRIMARY KEY (paper_pk, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX embeddings_model ON embeddings(model_id);
    """,
    # 3: categories as rows, lowercased, for fast category filters (a json_each scan cost ~0.7 s at p99)
    """
    CREATE TABLE paper_categories (
        category TEXT NOT NULL,
        paper_pk INTEGER NOT NULL REFERENCES papers(pk) ON DELETE CASCADE,
        PRIMARY KEY (category, paper_pk)
    ) WITHOUT ROWID;
    CREATE INDEX paper_categories_paper ON paper_categories(paper_pk);
    INSERT OR IGNORE INTO paper_categories (category, paper_pk)
        SELECT lower(j.value), p.pk FROM papers p, json_each(p.data, '$.categories') j;
    """,
    # 4: profiles, their papers, interests and feedback (profiles.py, storage/profiles.py)
    """
    CREATE TABLE profiles (
        pk INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        author TEXT,  -- the author name it was built from, if any
        created_at TEXT NOT NULL,
        recommended_at TEXT,  -- when recommend last ran for it: the default window starts here
        interests TEXT NOT NULL DEFAULT '[]'  -- JSON: [{name, terms, papers}]
    );
    CREATE TABLE profile_papers (
        profile_pk INTEGER NOT NULL REFERENCES profiles(pk) ON DELETE CASCADE,
        paper_pk INTEGER NOT NULL REFERENCES papers(pk) ON DELETE CASCADE,
        added_at TEXT NOT NULL,
        PRIMARY KEY (profile_pk, paper_pk)
    ) WITHOUT ROWID;
    CREATE TABLE feedback (
        pk INTEGER PRIMARY KEY,
        profile_pk INTEGER NOT NULL REFERENCES profiles(pk) ON DELETE CASCADE,
        paper_pk INTEGER NOT NULL REFERENCES papers(pk) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike', 'not_interested')),
        created_at TEXT NOT NULL
    );
    CREATE INDEX feedback_profile ON feedback(profile_pk, paper_pk);
    CREATE TABLE seen (
        profile_pk INTEGER NOT NULL REFERENCES profiles(pk) ON DELETE CASCADE,
        paper_pk INTEGER NOT NULL REFERENCES papers(pk) ON DELETE CASCADE,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (profile_pk, paper_pk)
    ) WITHOUT ROWID;
    CREATE INDEX seen_paper ON seen(paper_pk);
    CREATE INDEX profile_papers_paper ON profile_papers(paper_pk);
    CREATE INDEX feedback_paper ON feedback(paper_pk);
    """,
    # 5: topics and paper-topic assignments (topics/)
    """
    CREATE TABLE topics (
        id INTEGER PRIMARY KEY,  -- stable across rebuilds (matched by overlap) and imports
        level INTEGER NOT NULL CHECK (level IN (1, 2)),  -- 1 broad, 2 fine
        parent INTEGER,  -- a fine topic's broad topic
        label TEXT NOT NULL,
        terms TEXT NOT NULL,  -- JSON list of keyphrases, best first
        size INTEGER NOT NULL,
        centroid BLOB,  -- float32, L2-normalised (fine topics)
        x REAL,
        y REAL,
        axes BLOB  -- float32 2 x dim: the topic's own directions for placing papers on the map
    );
    CREATE TABLE paper_topics (
        paper_pk INTEGER PRIMARY KEY REFERENCES papers(pk) ON DELETE CASCADE,
        topic INTEGER NOT NULL,  -- the fine topic
        score REAL NOT NULL,  -- cosine to the topic's centroid
        x REAL NOT NULL,
        y REAL NOT NULL
    );
    CREATE INDEX paper_topics_topic ON paper_topics(topic);
    CREATE TABLE topic_builds (
        pk INTEGER PRIMARY KEY,
        built_at TEXT NOT NULL,
        model_id TEXT NOT NULL,
        info TEXT NOT NULL  -- JSON: papers, topics, kept ids, seconds, parameters
    );
    """,
    # 6: delivery: sync state, digests sent (sync.py, digest/)
    """
    CREATE TABLE sync_state (
        source TEXT PRIMARY KEY,  -- 'arxiv:cs.CL', 'hf'
        cursor TEXT NOT NULL,  -- JSON: where the source stopped (window, next start, last day)
        last_ok TEXT,
        last_error TEXT,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE digests (
        pk INTEGER PRIMARY KEY,
        profile TEXT NOT NULL,
        created_at TEXT NOT NULL,
        since TEXT,  -- papers added to the library after this time
        last_paper_pk INTEGER,  -- the newest paper when it was made: the next digest starts after it
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
        message_id TEXT NOT NULL,
        recipient TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT
    );
    CREATE INDEX digests_profile ON digests(profile, status);
    CREATE TABLE digest_items (
        digest_pk INTEGER NOT NULL REFERENCES digests(pk) ON DELETE CASCADE,
        rank INTEGER NOT NULL,
        paper_id TEXT NOT NULL,
        data TEXT NOT NULL,  -- JSON: score, interest, reasons
        PRIMARY KEY (digest_pk, rank)
    ) WITHOUT ROWID;
    CREATE INDEX digest_items_paper ON digest_items(paper_id);
    CREATE TABLE delivery_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 7: web app settings: the hashed access token (web/)
    """
    CREATE TABLE web_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 8: a log of changed embeddings (paper, model), so a persisted ANN index catches up with only those
    """
    CREATE TABLE embedding_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so it doubles as a change counter
        model_id TEXT NOT NULL,
        paper_pk INTEGER NOT NULL
    );
    CREATE INDEX embedding_log_model ON embedding_log(model_id, seq);
    CREATE TRIGGER embeddings_log_ai AFTER INSERT ON embeddings BEGIN
        INSERT INTO embedding_log (model_id, paper_pk) VALUES (new.model_id, new.paper_pk);
    END;
    CREATE TRIGGER embeddings_log_ad AFTER DELETE ON embeddings BEGIN
        INSERT INTO embedding_log (model_id, paper_pk) VALUES (old.model_id, old.paper_pk);
    END;
    """,
    # 9 (issue 13): background jobs of the web server (imports...), so a page can poll their
    # progress and a restarted server reports a job it was killed during
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,  -- queued, running, done, failed, interrupted
        done INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        result TEXT,  -- JSON, when done
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 10 (issue 11): steering a profile: followed authors, keyword rules, a score threshold; and an
    # index that makes the ranking features' "did the library change" check one index lookup
    """
    CREATE TABLE profile_follows (
        profile_pk INTEGER NOT NULL REFERENCES profiles(pk) ON DELETE CASCADE,
        author TEXT NOT NULL,  -- the name as given; matched like `profile create --author`
        added_at TEXT NOT NULL,
        PRIMARY KEY (profile_pk, author)
    ) WITHOUT ROWID;
    CREATE TABLE profile_rules (
        profile_pk INTEGER NOT NULL REFERENCES profiles(pk) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('must', 'exclude')),
        word TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (profile_pk, kind, word)
    ) WITHOUT ROWID;
    ALTER TABLE profiles ADD COLUMN threshold REAL;  -- minimum percentile shown (NULL: none)
    CREATE INDEX papers_updated ON papers(updated_at);
    """,
    # 11 (issue 15): each channel (an email address, a Slack/Discord/Matrix/Mattermost/JSON
    # webhook) a digest went to, so a retry sends it only to the channels that missed it
    """
    CREATE TABLE digest_deliveries (
        digest_pk INTEGER NOT NULL REFERENCES digests(pk) ON DELETE CASCADE,
        channel TEXT NOT NULL,  -- 'email:ADDRESS' or 'KIND:HASH OF URL' (a webhook URL is a secret)
        sent_at TEXT NOT NULL,
        PRIMARY KEY (digest_pk, channel)
    ) WITHOUT ROWID;
    """,
    # 12 (issue 14, "dates mislead"): a paper's date is never a listing or update date later than the
    # month after its arXiv id's month (1804.06498 listed 2025-10-13 is 2018-04), as
    # models.preferred_date decides for new imports; "newest" sorting and date filters follow
    f"""
    UPDATE papers
    SET date = {_ID_MONTH}, year = CAST(substr({_ID_MONTH}, 1, 4) AS INTEGER)
    WHERE id GLOB 'arxiv:*' AND {_ID_MONTH} IS NOT NULL
      AND coalesce(json_extract(data, '$.dates.published'), '') NOT GLOB '[0-9]*'
      AND coalesce(json_extract(data, '$.dates.created'), '') NOT GLOB '[0-9]*'
      AND substr(date, 1, 7) > substr(date({_ID_MONTH} || '-01', '+1 month'), 1, 7);
    """,
    # 13 (issue 16, accounts: storage/users.py): users (argon2 password hashes), their login sessions
    # and API tokens (both kept only as the SHA-256 of a random secret); each profile's owner (NULL:
    # made before accounts, or its owner was removed; admins see those); digests and their deliveries
    # are owned through their profile, so deleting a profile deletes its digests (a new profile of
    # the same name, maybe another user's, never inherits them)
    """
    CREATE TABLE users (
        pk INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,  -- argon2id, with its parameters and salt
        admin INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        last_login_at TEXT
    );
    CREATE TABLE user_sessions (
        token_hash TEXT PRIMARY KEY,  -- 'sha256:...' of the session cookie's value
        user_pk INTEGER NOT NULL REFERENCES users(pk) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX user_sessions_user ON user_sessions(user_pk);
    CREATE TABLE user_tokens (
        token_hash TEXT PRIMARY KEY,  -- 'sha256:...' of the API token
        user_pk INTEGER NOT NULL REFERENCES users(pk) ON DELETE CASCADE,
        label TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX user_tokens_user ON user_tokens(user_pk);
    ALTER TABLE profiles ADD COLUMN user_pk INTEGER REFERENCES users(pk) ON DELETE SET NULL;
    CREATE INDEX profiles_user ON profiles(user_pk);
    CREATE TRIGGER profiles_ad_digests AFTER DELETE ON profiles BEGIN
        DELETE FROM digests WHERE profile = old.name COLLATE NOCASE;
    END;
    """,
    # 14 (issue 18, one settings table, one signer: storage/settings.py, signing.py): delivery_settings
    # and web_settings become `settings`, every value carried. The web's `secret` is now the one
    # signing secret; the old `link_secret` stays only to verify feedback links emailed before.
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    INSERT INTO settings (key, value, updated_at) SELECT key, value, updated_at FROM web_settings;
    INSERT INTO settings (key, value, updated_at)
        SELECT key, value, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now') FROM delivery_settings
        WHERE key NOT IN (SELECT key FROM web_settings);
    DROP TABLE web_settings;
    DROP TABLE delivery_settings;
    """,
    # 15: paper pks are never reused. The library picks a new paper's pk itself (a batch's papers
    # join each other before they are written), as one past the highest pk ever given, kept here
    # (what AUTOINCREMENT's sqlite_sequence does): a merge that deletes the newest paper no longer
    # frees its pk for the next import, which a digest's `last_paper_pk` mark would skip
    """
    CREATE TABLE last_keys (
        name TEXT PRIMARY KEY,  -- 'papers'
        last INTEGER NOT NULL  -- the highest key ever given
    );
    INSERT INTO last_keys (name, last) SELECT 'papers', pk FROM papers ORDER BY pk DESC LIMIT 1;
    """,
    # 16 (issue 17): the papers whose text changed since their vectors were last checked against it,
    # so finding what a model lacks (index.lacking, after every import) reads only their texts, not
    # every paper's. A trigger adds a paper whose title or abstract changes; `index.update_index`
    # adds one whose text changed while it was being embedded; `index.lacking` removes those whose
    # vectors all match their text again. Every paper with a vector starts here: the first check
    # after the upgrade reads their texts once.
    """
    CREATE TABLE text_checks (
        paper_pk INTEGER PRIMARY KEY REFERENCES papers(pk) ON DELETE CASCADE
    );
    CREATE TRIGGER papers_text_checks AFTER UPDATE OF title, abstract ON papers
    WHEN new.title IS NOT old.title OR new.abstract IS NOT old.abstract BEGIN
        INSERT OR IGNORE INTO text_checks (paper_pk) VALUES (new.pk);
    END;
    INSERT OR IGNORE INTO text_checks (paper_pk) SELECT paper_pk FROM embeddings;
    """,
]


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> int:
    """Apply pending migrations (only up to number `upto`: how tests make an old library);
    returns the schema version now in force."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    target = len(MIGRATIONS) if upto is None else upto
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"library schema version {version} is newer than this paperradar ({len(MIGRATIONS)}); upgrade paperradar"
        )
    for number, script in enumerate(MIGRATIONS[version:target], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return max(version, target)


def _statements(script: str) -> list[str]:
    """Split a script on ';' at statement ends, keeping trigger bodies whole."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
