-- Issue 15: rotation links a token to the one that replaced it and back
-- (`rotatedFrom` / `rotatedTo` in the token's metadata).
ALTER TABLE tokens ADD COLUMN rotated_from TEXT;
ALTER TABLE tokens ADD COLUMN rotated_to TEXT;
