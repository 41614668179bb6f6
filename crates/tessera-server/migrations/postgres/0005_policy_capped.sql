-- Issue 15: see migrations/sqlite/0008_policy_capped.sql.
ALTER TABLE tokens ADD COLUMN capped_at BIGINT;
