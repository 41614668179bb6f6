-- Issue 15: see migrations/sqlite/0006_rotation.sql.
ALTER TABLE tokens ADD COLUMN rotated_from TEXT;
ALTER TABLE tokens ADD COLUMN rotated_to TEXT;
