-- +goose Up
-- Each tenant's own currency table, seeded from ledger.default_currencies on
-- the tenant's first use.
CREATE TABLE ledger.currencies (
    tenant_id   uuid NOT NULL,
    code        text NOT NULL CHECK (code ~ '^[A-Z]{3}$'),
    description text NOT NULL,
    scale       smallint NOT NULL CHECK (scale BETWEEN 0 AND 8),
    PRIMARY KEY (tenant_id, code)
);

-- +goose Down
DROP TABLE ledger.currencies;
