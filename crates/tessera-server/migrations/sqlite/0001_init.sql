-- Users sign in to the console and own tokens.
CREATE TABLE users (
    username        TEXT PRIMARY KEY NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    admin           INTEGER NOT NULL DEFAULT 0,
    active          INTEGER NOT NULL DEFAULT 1,
    permissions     TEXT NOT NULL DEFAULT '[]',  -- JSON array of scope values
    zones           TEXT NOT NULL DEFAULT '[]',  -- JSON array of management zone names
    all_zones       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);

-- Tokens: only the SHA-256 digest of a token is stored, never the token.
-- seq orders rows by insertion, which makes paging stable under concurrent inserts.
CREATE TABLE tokens (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    owner           TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    scopes          TEXT NOT NULL,               -- JSON array of scope values
    personal        INTEGER NOT NULL,
    enabled         INTEGER NOT NULL,
    digest          BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER,
    expires_at      INTEGER,
    last_used_at    INTEGER,
    last_used_ip    TEXT
);
CREATE INDEX tokens_owner ON tokens(owner, created_at);
CREATE INDEX tokens_created ON tokens(created_at);

-- Browser sessions, keyed by the SHA-256 of the cookie value.
CREATE TABLE sessions (
    id_digest       BLOB PRIMARY KEY NOT NULL,
    username        TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(username, created_at);

CREATE TABLE settings (
    key             TEXT PRIMARY KEY NOT NULL,
    value           TEXT NOT NULL,
    modified_at     INTEGER NOT NULL,
    modified_by     TEXT
);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    client_addr     TEXT,
    event           TEXT NOT NULL,
    target          TEXT,
    detail          TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
