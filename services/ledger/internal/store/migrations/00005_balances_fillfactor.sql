-- +goose Up
-- A balance row is updated by every posting to it. With free space on its
-- page, PostgreSQL updates it in place (a HOT update) and writes no index
-- entries; at the default fillfactor of 100 pages fill up and every update
-- also writes both indexes.
ALTER TABLE ledger.balances SET (fillfactor = 70);

-- +goose Down
ALTER TABLE ledger.balances RESET (fillfactor);
