-- +goose Up
-- A posting transaction sends its writes and its COMMIT in one round trip,
-- so a statement that must touch an exact number of rows checks that count
-- itself: a shortfall aborts the transaction before the COMMIT runs.
-- +goose StatementBegin
CREATE FUNCTION ledger.expect_rows(what text, got bigint, want bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got <> want THEN
        RAISE EXCEPTION '%: % of % rows', what, got, want USING ERRCODE = 'internal_error';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ledger.expect_rows(text, bigint, bigint);
