-- +goose Up
-- One group-commit transaction's writes, in one call, so that a posting
-- transaction is a single round trip (BEGIN, this call, COMMIT): the
-- balance rows stay locked only while the server works, never while a
-- client computes between statements.
--
-- The postings come request by request, in queue order (p_req numbers the
-- requests from 1); k_* are the distinct balance keys of the postings,
-- sorted; c_* are the idempotency keys of the requests that have one,
-- sorted by (tenant, key), each with the postings of its request
-- (c_lo..c_hi, counting the postings from 1).
--
-- Locks are taken in this order, the same in every transaction, so that
-- concurrent ones never deadlock: the balance rows (key order), the
-- idempotency keys (key order), the stream counters (tenant order).
--
-- A request whose key was already taken writes nothing: a row of kind 1
-- returns its request number (item) and the key's record. Every entry
-- written returns a row of kind 0, item being its posting's number.
-- Entry ids are ascending in posting order, and within a tenant stream
-- positions too, so every balance's chain reads in stream order.
-- +goose StatementBegin
CREATE FUNCTION ledger.post_group(
    p_req integer[], p_tenant uuid[], p_customer integer[], p_currency text[], p_website integer[],
    p_kind text[], p_action smallint[], p_delta numeric[], p_scale smallint[], p_comment text[],
    p_notify boolean[], p_key text[],
    k_tenant uuid[], k_customer integer[], k_currency text[], k_website integer[],
    c_req integer[], c_tenant uuid[], c_key text[], c_hash bytea[], c_lo integer[], c_hi integer[]
) RETURNS TABLE (
    kind smallint, item integer, entry_id bigint, stream_seq bigint, balance_id bigint,
    balance_after numeric, post_time timestamptz, request_hash bytea, entry_ids bigint[]
)
LANGUAGE plpgsql AS $$
DECLARE
    n         integer := cardinality(p_req);
    n_rows    bigint;
    ids       bigint[];
    posted_at timestamptz;
    claimed   integer[];
    s_tenant  uuid[] := '{}';
    s_last    bigint[] := '{}';
    t         uuid;
    cnt       bigint;
    last_seq  bigint;
BEGIN
    -- Missing balance rows, in key order; the scalar subquery skips the
    -- rows already there without spending an identity value on each.
    INSERT INTO ledger.balances (tenant_id, customer_id, currency, website_id)
    SELECT k.t, k.c, k.cur, k.w
    FROM unnest(k_tenant, k_customer, k_currency, k_website) WITH ORDINALITY AS k(t, c, cur, w, o)
    WHERE (SELECT b.balance_id FROM ledger.balances b
           WHERE b.tenant_id = k.t AND b.customer_id = k.c AND b.currency = k.cur AND b.website_id = k.w) IS NULL
    ORDER BY k.o
    ON CONFLICT DO NOTHING;

    -- Lock them, in key order: one primary-key probe per key.
    PERFORM 1
    FROM unnest(k_tenant, k_customer, k_currency, k_website) AS k(t, c, cur, w)
    CROSS JOIN LATERAL (
        SELECT 1 FROM ledger.balances b
        WHERE b.tenant_id = k.t AND b.customer_id = k.c AND b.currency = k.cur AND b.website_id = k.w
        FOR UPDATE
    ) b;
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM ledger.expect_rows('lock balances', n_rows, cardinality(k_tenant));

    -- Entry ids and the post time, after the locks: along a balance's
    -- chain neither ever decreases, even across replicas.
    ids := ARRAY(SELECT i FROM (SELECT nextval('ledger.entry_ids') AS i FROM generate_series(1, n)) s ORDER BY i);
    posted_at := clock_timestamp();

    -- Idempotency keys, in key order. A key another transaction is
    -- inserting is waited for, then found taken.
    WITH ins AS (
        INSERT INTO ledger.idempotency_keys (tenant_id, key, request_hash, entry_ids)
        SELECT c.t, c.k, c.h, ids[c.lo:c.hi]
        FROM unnest(c_tenant, c_key, c_hash, c_lo, c_hi) WITH ORDINALITY AS c(t, k, h, lo, hi, o)
        ORDER BY c.o
        ON CONFLICT DO NOTHING
        RETURNING tenant_id, key
    )
    SELECT coalesce(array_agg(c.r), '{}') INTO claimed
    FROM unnest(c_req, c_tenant, c_key) AS c(r, t, k)
    JOIN ins ON ins.tenant_id = c.t AND ins.key = c.k;

    -- The records of the keys already taken (a new snapshot: it sees the
    -- transactions the INSERT waited for).
    RETURN QUERY
    SELECT 1::smallint, c.r, NULL::bigint, NULL::bigint, NULL::bigint, NULL::numeric, NULL::timestamptz,
           i.request_hash, i.entry_ids
    FROM unnest(c_req, c_tenant, c_key) AS c(r, t, k)
    JOIN ledger.idempotency_keys i ON i.tenant_id = c.t AND i.key = c.k
    WHERE c.r <> ALL (claimed);
    GET DIAGNOSTICS n_rows = ROW_COUNT;
    PERFORM ledger.expect_rows('read taken idempotency keys', n_rows, cardinality(c_req) - cardinality(claimed));

    -- Stream positions, tenant by tenant in tenant order. Each counter row
    -- stays locked until COMMIT, so positions become visible in order.
    FOR t, cnt IN
        SELECT u.t, count(*)
        FROM unnest(p_req, p_tenant, p_key) AS u(r, t, k)
        WHERE u.k = '' OR u.r = ANY (claimed)
        GROUP BY u.t
        ORDER BY u.t
    LOOP
        UPDATE ledger.streams s SET last_seq = s.last_seq + cnt WHERE s.tenant_id = t
        RETURNING s.last_seq INTO last_seq;
        IF last_seq IS NULL THEN
            RAISE EXCEPTION 'tenant % has no stream counter', t USING ERRCODE = 'internal_error';
        END IF;
        s_tenant := s_tenant || t;
        s_last := s_last || last_seq;
    END LOOP;

    -- The entries of the requests that write, with their balances after
    -- (running sums over the locked balances, in posting order).
    RETURN QUERY
    WITH p AS (
        SELECT u.*, ids[u.o] AS id
        FROM unnest(p_req, p_tenant, p_customer, p_currency, p_website, p_kind, p_action, p_delta, p_scale,
                    p_comment, p_notify, p_key)
             WITH ORDINALITY AS u(r, t, c, cur, w, kind, action, delta, scale, comment, notify, k, o)
        WHERE u.k = '' OR u.r = ANY (claimed)
    ), w AS (
        SELECT p.*, b.balance_id AS bid,
               round(b.balance + sum(p.delta) OVER (PARTITION BY b.balance_id ORDER BY p.o), p.scale) AS after,
               s.top - count(*) OVER (PARTITION BY p.t) + row_number() OVER (PARTITION BY p.t ORDER BY p.o) AS seq,
               row_number() OVER (PARTITION BY b.balance_id ORDER BY p.o DESC) AS from_last
        FROM p
        JOIN ledger.balances b
          ON b.tenant_id = p.t AND b.customer_id = p.c AND b.currency = p.cur AND b.website_id = p.w
        JOIN unnest(s_tenant, s_last) AS s(t, top) ON s.t = p.t
    ), e AS (
        INSERT INTO ledger.entries (tenant_id, entry_id, stream_seq, balance_id, customer_id, currency,
            website_id, kind, action, delta, balance_after, idempotency_key, comment, notify_customer, post_time)
        SELECT w.t, w.id, w.seq, w.bid, w.c, w.cur, w.w, w.kind, w.action, round(w.delta, w.scale), w.after,
               w.k, w.comment, w.notify, posted_at
        FROM w
        RETURNING 1
    ), bu AS (
        UPDATE ledger.balances b
        SET balance = w.after, last_entry_id = w.id, update_time = posted_at
        FROM w
        WHERE w.from_last = 1 AND b.tenant_id = w.t AND b.balance_id = w.bid
        RETURNING 1
    )
    SELECT 0::smallint, w.o::integer, w.id, w.seq, w.bid, w.after, posted_at, NULL::bytea, NULL::bigint[]
    FROM w
    CROSS JOIN (SELECT ledger.expect_rows('update balances', (SELECT count(*) FROM bu),
                                          (SELECT count(*) FROM w WHERE w.from_last = 1))) chk
    CROSS JOIN (SELECT ledger.expect_rows('insert entries', (SELECT count(*) FROM e),
                                          (SELECT count(*) FROM w))) chk2
    ORDER BY w.o;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION ledger.post_group(integer[], uuid[], integer[], text[], integer[], text[], smallint[], numeric[],
    smallint[], text[], boolean[], text[], uuid[], integer[], text[], integer[], integer[], uuid[], text[],
    bytea[], integer[], integer[]);
