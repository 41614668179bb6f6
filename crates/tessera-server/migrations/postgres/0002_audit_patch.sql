-- Issue 14: see migrations/sqlite/0005_audit_patch.sql.
ALTER TABLE audit_log ADD COLUMN patch TEXT;
