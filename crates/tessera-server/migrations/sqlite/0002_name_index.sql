-- Lists sorted by name read in index order instead of sorting every token.
CREATE INDEX tokens_name ON tokens(name COLLATE NOCASE);
