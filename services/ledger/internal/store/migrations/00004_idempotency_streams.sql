-- +goose Up
-- Idempotency keys, unique per tenant across single and batch postings: the
-- hash of the request that first used the key and the entries it posted.
CREATE TABLE ledger.idempotency_keys (
    tenant_id    uuid NOT NULL,
    key          text NOT NULL CHECK (key <> '' AND length(key) <= 200),
    request_hash bytea NOT NULL,
    entry_ids    bigint[] NOT NULL,
    create_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

-- The change stream's counter per tenant. A posting transaction takes this
-- row's lock after its balance locks and keeps it until COMMIT, so stream
-- sequence numbers become visible in commit order: a reader that has seen
-- stream_seq N never later finds a committed entry below N.
CREATE TABLE ledger.streams (
    tenant_id uuid PRIMARY KEY,
    last_seq  bigint NOT NULL CHECK (last_seq >= 0)
);

-- +goose Down
DROP TABLE ledger.streams;
DROP TABLE ledger.idempotency_keys;
