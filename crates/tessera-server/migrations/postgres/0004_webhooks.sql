-- Issue 15: see migrations/sqlite/0007_webhooks.sql.
CREATE TABLE webhook_events (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    type            TEXT NOT NULL,
    token_id        TEXT,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_holder    TEXT,
    lease_until     BIGINT,
    finished_at     BIGINT
);
CREATE INDEX webhook_events_pending ON webhook_events(seq) WHERE state = 'pending';
-- Each token's events go out in order: is an older one of the same token still pending?
CREATE INDEX webhook_events_token ON webhook_events(token_id, seq) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id              BIGSERIAL PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    at              BIGINT NOT NULL,
    status          INTEGER,
    error           TEXT,
    duration_ms     BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts(event_id, id);

CREATE TABLE token_notices (
    token_id        TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    expires_at      BIGINT NOT NULL,
    within_days     INTEGER NOT NULL,
    PRIMARY KEY (token_id, expires_at, within_days)
);

CREATE TABLE leases (
    name            TEXT PRIMARY KEY,
    holder          TEXT NOT NULL,
    held_until      BIGINT NOT NULL
);

CREATE INDEX tokens_expires ON tokens(expires_at);
CREATE INDEX tokens_idle ON tokens((COALESCE(last_used_at, created_at)));
