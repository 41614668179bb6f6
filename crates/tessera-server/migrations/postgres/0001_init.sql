-- Tessera on PostgreSQL: the same tables as on SQLite (see migrations/sqlite), in
-- PostgreSQL's types. Times are epoch milliseconds, as on SQLite.
CREATE TABLE users (
    username        TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    admin           BOOLEAN NOT NULL DEFAULT FALSE,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    permissions     TEXT[] NOT NULL DEFAULT '{}',
    zones           TEXT[] NOT NULL DEFAULT '{}',
    all_zones       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL
);

-- Only the SHA-256 digest of a token is stored. seq orders rows by insertion (paging).
CREATE TABLE tokens (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    owner           TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    scopes          TEXT[] NOT NULL,
    personal        BOOLEAN NOT NULL,
    enabled         BOOLEAN NOT NULL,
    digest          BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT,
    expires_at      BIGINT,
    last_used_at    BIGINT,
    last_used_ip    TEXT
);
CREATE INDEX tokens_owner ON tokens(owner, created_at);
CREATE INDEX tokens_created ON tokens(created_at);
CREATE INDEX tokens_name ON tokens(lower(name));

CREATE TABLE sessions (
    id_digest       BYTEA PRIMARY KEY,
    username        TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(username, created_at);

CREATE TABLE settings (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL,
    modified_at     BIGINT NOT NULL,
    modified_by     TEXT
);

CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    client_addr     TEXT,
    event           TEXT NOT NULL,
    target          TEXT,
    detail          TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);

-- The change feed (see migrations/sqlite/0003_changes.sql). On PostgreSQL a sequence number
-- is taken at insert, not at commit, so readers tolerate a short gap (crate::feed).
CREATE TABLE changes (
    seq             BIGSERIAL PRIMARY KEY,
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL
);
CREATE INDEX changes_at ON changes(at);

CREATE TABLE feed_state (
    key             TEXT PRIMARY KEY,
    value           BIGINT NOT NULL
);

-- The per-username sign-in budget, shared by every node (GCRA: `tat` is the theoretical
-- arrival time of the next attempt, epoch ms). Rows whose tat has passed are removed.
CREATE TABLE sign_in_limits (
    username        TEXT PRIMARY KEY,
    tat             BIGINT NOT NULL
);
