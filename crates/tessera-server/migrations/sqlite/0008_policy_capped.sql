-- Issue 15: when the lifecycle policy last shortened a token's life (its owner is told).
ALTER TABLE tokens ADD COLUMN capped_at INTEGER;
