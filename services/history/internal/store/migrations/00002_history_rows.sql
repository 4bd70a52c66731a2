-- +goose Up
-- One row per ledger entry. The projection writes rows in the same
-- transaction as the tenant's history.stream_cursors row, so the rows and the
-- cursor never disagree.
CREATE TABLE history.entries (
    tenant_id         uuid NOT NULL,
    -- The ledger entry id.
    history_id        bigint NOT NULL,
    balance_id        bigint NOT NULL,
    customer_id       integer NOT NULL,
    currency          text NOT NULL,
    website_id        integer NOT NULL,
    kind              text NOT NULL,
    -- Magento store-credit action; 0 for other kinds.
    action            smallint NOT NULL,
    balance_delta     numeric NOT NULL,
    -- The balance right after this row.
    balance_amount    numeric NOT NULL,
    additional_info   text NOT NULL,
    customer_notified boolean NOT NULL,
    -- The ledger's post time.
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, history_id)
);

-- A customer's history newest first (updated_at DESC, history_id DESC, read
-- backwards), with keyset pages that start with one index probe.
CREATE INDEX entries_customer_idx ON history.entries (tenant_id, customer_id, updated_at, history_id);

-- One balance's rows in time order: the balance at an instant is one probe
-- (the last row at or before it, read from the index alone), and a
-- single-balance history or statement is one range scan.
CREATE INDEX entries_balance_idx ON history.entries (tenant_id, balance_id, updated_at, history_id)
    INCLUDE (balance_amount);

-- The balances (customer, currency, website) the history has rows of: a
-- handful per customer, so the balance at an instant visits these keys and
-- probes the index above once per key instead of scanning rows.
CREATE TABLE history.balances (
    tenant_id   uuid NOT NULL,
    balance_id  bigint NOT NULL,
    customer_id integer NOT NULL,
    currency    text NOT NULL,
    website_id  integer NOT NULL,
    PRIMARY KEY (tenant_id, balance_id),
    UNIQUE (tenant_id, customer_id, currency, website_id)
);

-- +goose Down
DROP TABLE history.balances;
DROP TABLE history.entries;
