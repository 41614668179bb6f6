-- Issue 14: what a change did, before → after, as a JSON Patch (RFC 6902) with each
-- replaced value's previous one in `oldValue`; served as `patch` by the Audit logs API.
ALTER TABLE audit_log ADD COLUMN patch TEXT;
