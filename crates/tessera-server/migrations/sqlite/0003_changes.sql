-- The change feed: one row per committed change, written in the same transaction as the
-- change itself. `seq` is the feed's order (SQLite has one writer at a time, so it is also
-- commit order); a node re-reads the row named by (kind, key) and applies it to its index.
CREATE TABLE changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    kind            TEXT NOT NULL,               -- token | user | session | setting
    key             TEXT NOT NULL                -- token id, username or setting key
);
CREATE INDEX changes_at ON changes(at);

-- How far the feed has been pruned: a reader behind this point rebuilds from a snapshot.
CREATE TABLE feed_state (
    key             TEXT PRIMARY KEY NOT NULL,
    value           INTEGER NOT NULL
);
