-- Issue 16: see migrations/sqlite/0010_sso.sql.
CREATE TABLE sso_identities (
    username TEXT PRIMARY KEY NOT NULL,
    refresh_token TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    checking_until BIGINT
);
CREATE INDEX sso_identities_checked_at ON sso_identities (checked_at);
