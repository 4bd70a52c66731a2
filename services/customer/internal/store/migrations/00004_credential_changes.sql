-- +goose Up
-- The change log of what makes a cached authentication stale: a revoked
-- credential, an ended Magento session. Gateways cache verified
-- credentials and learn of these through WatchCredentialChanges; a revoke
-- returns only once they have (see store/changes.go for the argument).
-- Writers take an EXCLUSIVE lock on the table before they insert, so seq
-- order is commit order: a reader that sees seq N sees every seq below it.
CREATE TABLE customer.credential_changes (
    seq           bigserial PRIMARY KEY,
    credential_id uuid,
    session_hash  bytea CHECK (length(session_hash) = 32),
    change_time   timestamptz NOT NULL DEFAULT now(),
    CHECK (credential_id IS NOT NULL OR session_hash IS NOT NULL)
);
CREATE INDEX credential_changes_time ON customer.credential_changes (change_time);

-- The watchers (gateway processes) and the seq each last acked, written by
-- whichever customer replica serves the watcher's stream, read by the
-- replica whose revoke waits for them.
CREATE TABLE customer.credential_watchers (
    watcher_id uuid PRIMARY KEY,
    acked_seq  bigint NOT NULL,
    ack_time   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE customer.credential_watchers;
DROP TABLE customer.credential_changes;
