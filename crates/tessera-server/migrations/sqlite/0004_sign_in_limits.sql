-- The per-username sign-in budget, in the database so that it holds across nodes (GCRA:
-- `tat` is the theoretical arrival time of the next attempt, epoch ms).
CREATE TABLE sign_in_limits (
    username        TEXT PRIMARY KEY NOT NULL,
    tat             INTEGER NOT NULL
);
