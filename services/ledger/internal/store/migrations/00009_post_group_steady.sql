-- +goose Up
-- ledger.post_group, cheaper in the steady state, where every balance row
-- of a group already exists and every idempotency key is new: the server's
-- CPU per posting was measured going mostly to starting statements and to
-- index probes (BenchmarkPostGroup in internal/store, with perf on the
-- backend), and two of each transaction's statements only ever did work in
-- the rare case.
--
--   lock_balances  locks the rows there are first; only when some are
--                  missing does it run the INSERT (with its probe per key)
--                  and lock again
--   post_group     reads the records of taken keys only when some key was
--                  found taken
--
-- The lock order is unchanged where it matters: a transaction that inserts
-- balance rows has already locked every existing row it needs, so after an
-- insert it only locks rows it inserted or ones committed since; inserts
-- go in key order in every transaction.

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger.lock_balances(keys ledger.balance_key[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    locked bigint;
BEGIN
    FOR attempt IN 1..2 LOOP
        -- The rows there are, in key order: one primary-key probe per key.
        PERFORM 1
        FROM unnest(keys) AS k
        CROSS JOIN LATERAL (
            SELECT 1 FROM ledger.balances b
            WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
              AND b.currency = k.currency AND b.website_id = k.website_id
            FOR UPDATE
        ) b;
        GET DIAGNOSTICS locked = ROW_COUNT;
        EXIT WHEN locked = cardinality(keys) OR attempt = 2;

        -- Some are missing: create them, in key order (the scalar subquery
        -- skips the rows already there without spending an identity value
        -- on each), then lock again.
        INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
        SELECT k.tenant_id, k.customer_id, k.currency, k.website_id
        FROM unnest(keys) WITH ORDINALITY AS k
        WHERE (SELECT b.balance_id FROM ledger.balances b
               WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
                 AND b.currency = k.currency AND b.website_id = k.website_id) IS NULL
        ORDER BY k.ordinality
        ON CONFLICT DO NOTHING;
    END LOOP;
    PERFORM ledger.expect_rows('lock balances', locked, cardinality(keys));
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger.post_group(postings ledger.group_posting[], balances ledger.balance_key[],
                                             claims ledger.key_claim[])
RETURNS TABLE (
    kind smallint, item integer, entry_id bigint, stream_seq bigint, balance_id bigint,
    balance_after numeric, post_time timestamptz, request_hash bytea, entry_ids bigint[]
)
LANGUAGE plpgsql AS $$
DECLARE
    ids       bigint[];
    posted_at timestamptz;
    claimed   integer[];
    tops      ledger.stream_top[];
BEGIN
    PERFORM ledger.lock_balances(balances);

    -- Entry ids and the post time, after the locks: along a balance's
    -- chain neither ever decreases, even across replicas.
    ids := ARRAY(SELECT i FROM (SELECT nextval('ledger.entry_ids') AS i
                                FROM generate_series(1, cardinality(postings))) s ORDER BY i);
    posted_at := clock_timestamp();

    claimed := ledger.claim_keys(claims, ids);
    IF cardinality(claimed) < cardinality(claims) THEN
        RETURN QUERY
        SELECT 1::smallint, t.req, NULL::bigint, NULL::bigint, NULL::bigint, NULL::numeric, NULL::timestamptz,
               t.request_hash, t.entry_ids
        FROM ledger.taken_keys(claims, claimed) t;
    END IF;

    tops := ledger.advance_streams(postings, claimed);
    RETURN QUERY
    SELECT 0::smallint, e.pos, e.entry_id, e.stream_seq, e.balance_id, e.balance_after, posted_at,
           NULL::bytea, NULL::bigint[]
    FROM ledger.write_entries(postings, claimed, ids, tops, posted_at) e
    ORDER BY e.pos;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- The functions as 00008_post_group_steps.sql has them.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger.lock_balances(keys ledger.balance_key[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    locked bigint;
BEGIN
    -- The scalar subquery skips the rows already there without spending an
    -- identity value on each.
    INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
    SELECT k.tenant_id, k.customer_id, k.currency, k.website_id
    FROM unnest(keys) WITH ORDINALITY AS k
    WHERE (SELECT b.balance_id FROM ledger.balances b
           WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
             AND b.currency = k.currency AND b.website_id = k.website_id) IS NULL
    ORDER BY k.ordinality
    ON CONFLICT DO NOTHING;

    -- One primary-key probe per key.
    PERFORM 1
    FROM unnest(keys) AS k
    CROSS JOIN LATERAL (
        SELECT 1 FROM ledger.balances b
        WHERE b.tenant_id = k.tenant_id AND b.customer_id = k.customer_id
          AND b.currency = k.currency AND b.website_id = k.website_id
        FOR UPDATE
    ) b;
    GET DIAGNOSTICS locked = ROW_COUNT;
    PERFORM ledger.expect_rows('lock balances', locked, cardinality(keys));
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger.post_group(postings ledger.group_posting[], balances ledger.balance_key[],
                                             claims ledger.key_claim[])
RETURNS TABLE (
    kind smallint, item integer, entry_id bigint, stream_seq bigint, balance_id bigint,
    balance_after numeric, post_time timestamptz, request_hash bytea, entry_ids bigint[]
)
LANGUAGE plpgsql AS $$
DECLARE
    ids       bigint[];
    posted_at timestamptz;
    claimed   integer[];
    tops      ledger.stream_top[];
BEGIN
    PERFORM ledger.lock_balances(balances);

    -- Entry ids and the post time, after the locks: along a balance's
    -- chain neither ever decreases, even across replicas.
    ids := ARRAY(SELECT i FROM (SELECT nextval('ledger.entry_ids') AS i
                                FROM generate_series(1, cardinality(postings))) s ORDER BY i);
    posted_at := clock_timestamp();

    claimed := ledger.claim_keys(claims, ids);
    RETURN QUERY
    SELECT 1::smallint, t.req, NULL::bigint, NULL::bigint, NULL::bigint, NULL::numeric, NULL::timestamptz,
           t.request_hash, t.entry_ids
    FROM ledger.taken_keys(claims, claimed) t;

    tops := ledger.advance_streams(postings, claimed);
    RETURN QUERY
    SELECT 0::smallint, e.pos, e.entry_id, e.stream_seq, e.balance_id, e.balance_after, posted_at,
           NULL::bytea, NULL::bigint[]
    FROM ledger.write_entries(postings, claimed, ids, tops, posted_at) e
    ORDER BY e.pos;
END
$$;
-- +goose StatementEnd
