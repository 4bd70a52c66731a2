-- +goose Up
-- Where the projection stands in the ledger's stream, per tenant. It is
-- written in the same transaction as the history rows it covers.
CREATE TABLE history.stream_cursors (
    tenant_id   uuid PRIMARY KEY,
    cursor      text NOT NULL,
    update_time timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE history.stream_cursors;
