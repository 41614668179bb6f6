-- Issue 15: the webhook outbox, its delivery attempts, which expiry warnings were sent, and
-- the leases that let one node at a time run the lifecycle scheduler.

-- An event waits here from the transaction of the change it reports until it is delivered
-- (or given up after 24 h). seq orders each token's events; id is the `webhook-id`.
CREATE TABLE webhook_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    type            TEXT NOT NULL,
    token_id        TEXT,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending, delivered, failed, cancelled
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_holder    TEXT,
    lease_until     INTEGER,
    finished_at     INTEGER
);
CREATE INDEX webhook_events_pending ON webhook_events(seq) WHERE state = 'pending';
-- Each token's events go out in order: is an older one of the same token still pending?
CREATE INDEX webhook_events_token ON webhook_events(token_id, seq) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    at              INTEGER NOT NULL,
    status          INTEGER,          -- the receiver's HTTP status; NULL when none came
    error           TEXT,
    duration_ms     INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts(event_id, id);

-- One row per token, expiration and warning threshold sent (`token.expiring` goes out once
-- per threshold; a new expiration arms the warnings again).
CREATE TABLE token_notices (
    token_id        TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    expires_at      INTEGER NOT NULL,
    within_days     INTEGER NOT NULL,
    PRIMARY KEY (token_id, expires_at, within_days)
);

CREATE TABLE leases (
    name            TEXT PRIMARY KEY NOT NULL,
    holder          TEXT NOT NULL,
    held_until      INTEGER NOT NULL
);

CREATE INDEX tokens_expires ON tokens(expires_at);
CREATE INDEX tokens_idle ON tokens(COALESCE(last_used_at, created_at));
