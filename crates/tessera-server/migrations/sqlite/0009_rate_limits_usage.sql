-- Issue 17: a token's optional rate limit (requests per minute, over all nodes).
ALTER TABLE tokens ADD COLUMN rate_limit INTEGER;
-- What each window of a limited token has handed out to nodes so far; `last_grant` is
-- what the latest reservation got (the atomic upsert returns it).
CREATE TABLE rate_windows (
    token_id TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    used INTEGER NOT NULL,
    last_grant INTEGER NOT NULL,
    PRIMARY KEY (token_id, window_start)
);
-- Requests per token, hour and scope ('*' when refused before the scope was known).
CREATE TABLE token_usage (
    token_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    scope TEXT NOT NULL,
    allowed INTEGER NOT NULL,
    refused INTEGER NOT NULL,
    limited INTEGER NOT NULL,
    PRIMARY KEY (token_id, hour, scope)
);
CREATE INDEX token_usage_hour ON token_usage (hour);
