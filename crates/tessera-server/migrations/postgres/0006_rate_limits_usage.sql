-- Issue 17: see migrations/sqlite/0009_rate_limits_usage.sql.
ALTER TABLE tokens ADD COLUMN rate_limit BIGINT;
-- What each window of a limited token has handed out to nodes so far; `last_grant` is
-- what the latest reservation got (the atomic upsert returns it).
CREATE TABLE rate_windows (
    token_id TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used BIGINT NOT NULL,
    last_grant BIGINT NOT NULL,
    PRIMARY KEY (token_id, window_start)
);
-- Requests per token, hour and scope ('*' when refused before the scope was known).
CREATE TABLE token_usage (
    token_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    scope TEXT NOT NULL,
    allowed BIGINT NOT NULL,
    refused BIGINT NOT NULL,
    limited BIGINT NOT NULL,
    PRIMARY KEY (token_id, hour, scope)
);
CREATE INDEX token_usage_hour ON token_usage (hour);
