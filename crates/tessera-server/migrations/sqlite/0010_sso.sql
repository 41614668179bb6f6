-- Issue 16: what re-validating a single sign-on user needs. The refresh token is sealed
-- with the operator's key (XChaCha20-Poly1305, bound to the username); `checked_at` is
-- the last re-validation (or sign-in), `checking_until` the lease of the node doing it.
CREATE TABLE sso_identities (
    username TEXT PRIMARY KEY NOT NULL,
    refresh_token TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    checking_until INTEGER
);
CREATE INDEX sso_identities_checked_at ON sso_identities (checked_at);
