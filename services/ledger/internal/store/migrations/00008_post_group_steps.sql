-- +goose Up
-- ledger.post_group: one group-commit transaction's writes in one call, so
-- that a posting transaction is a single round trip (BEGIN, this call,
-- COMMIT) and the balance rows stay locked only while the server works,
-- never while a client computes between statements. It takes rows of three
-- composite types and runs named steps, each a function below:
--
--   lock_balances    create the missing balance rows, lock them all
--   (entry ids)      take the entry ids and the post time
--   claim_keys       claim the requests' idempotency keys
--   taken_keys       read the records of the keys already taken
--   advance_streams  advance the tenants' stream counters
--   write_entries    insert the entries, update the balances
--
-- Locks are taken in this order, the same in every transaction, so that
-- concurrent ones never deadlock: the balance rows (key order), the
-- idempotency keys (key order), the stream counters (tenant order).
--
-- This file is the functions' source. A change to them is a new migration
-- (CREATE OR REPLACE), never an edit here: a database migrated to version 8
-- must hold exactly what this file says.
--
-- The 22-array form of 00007 stays for the previous release, which keeps
-- posting during a rollout (deploy/README.md, "Upgrading"); the next
-- release's migration drops it.

-- One posting. req numbers its request within the group, from 1; a
-- request's postings are consecutive, requests in queue order.
-- idempotency_key is the request's key, '' for none.
CREATE TYPE ledger.group_posting AS (
    req             integer,
    tenant_id       uuid,
    customer_id     integer,
    currency        text,
    website_id      integer,
    kind            text,
    action          smallint,
    delta           numeric,
    scale           smallint,
    comment         text,
    notify_customer boolean,
    idempotency_key text
);

-- A balance row's primary key.
CREATE TYPE ledger.balance_key AS (
    tenant_id   uuid,
    customer_id integer,
    currency    text,
    website_id  integer
);

-- The idempotency key of a request (req) that has one, with the hash of the
-- request and its postings' positions in the group (first_posting to
-- last_posting, counting from 1).
CREATE TYPE ledger.key_claim AS (
    req           integer,
    tenant_id     uuid,
    key           text,
    request_hash  bytea,
    first_posting integer,
    last_posting  integer
);

-- A tenant's stream counter after this transaction's advance.
CREATE TYPE ledger.stream_top AS (
    tenant_id uuid,
    last_seq  bigint
);

-- Creates the balance rows of keys (distinct, sorted) that do not exist yet
-- and locks all of them, in key order.
-- +goose StatementBegin
CREATE FUNCTION ledger.lock_balances(keys ledger.balance_key[]) RETURNS void
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

-- Claims the keys of claims (sorted by tenant and key), each recording the
-- entry ids of its request's postings (ids numbers every posting of the
-- group), and returns the requests whose keys it claimed. A key another
-- transaction is inserting is waited for, then found taken.
-- +goose StatementBegin
CREATE FUNCTION ledger.claim_keys(claims ledger.key_claim[], ids bigint[]) RETURNS integer[]
LANGUAGE plpgsql AS $$
DECLARE
    claimed integer[];
BEGIN
    WITH ins AS (
        INSERT INTO ledger.idempotency_keys (tenant_id, key, request_hash, entry_ids)
        SELECT c.tenant_id, c.key, c.request_hash, ids[c.first_posting:c.last_posting]
        FROM unnest(claims) WITH ORDINALITY AS c
        ORDER BY c.ordinality
        ON CONFLICT DO NOTHING
        RETURNING tenant_id, key
    )
    SELECT coalesce(array_agg(c.req), '{}') INTO claimed
    FROM unnest(claims) AS c
    JOIN ins ON ins.tenant_id = c.tenant_id AND ins.key = c.key;
    RETURN claimed;
END
$$;
-- +goose StatementEnd

-- The records of the keys of claims that were not claimed: their requests
-- write nothing and answer from the record. Run after claim_keys, in a new
-- snapshot, it sees the transactions the claims waited for.
-- +goose StatementBegin
CREATE FUNCTION ledger.taken_keys(claims ledger.key_claim[], claimed integer[])
RETURNS TABLE (req integer, request_hash bytea, entry_ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    found_rows bigint;
BEGIN
    RETURN QUERY
    SELECT c.req, i.request_hash, i.entry_ids
    FROM unnest(claims) AS c
    JOIN ledger.idempotency_keys i ON i.tenant_id = c.tenant_id AND i.key = c.key
    WHERE c.req <> ALL (claimed);
    GET DIAGNOSTICS found_rows = ROW_COUNT;
    PERFORM ledger.expect_rows('read taken idempotency keys', found_rows,
                               cardinality(claims) - cardinality(claimed));
END
$$;
-- +goose StatementEnd

-- Advances the stream counter of each tenant of the postings that write
-- (no key, or a claimed one) by their number, tenant by tenant in tenant
-- order. Each counter row stays locked until COMMIT, so stream positions
-- become visible in order.
-- +goose StatementBegin
CREATE FUNCTION ledger.advance_streams(postings ledger.group_posting[], claimed integer[])
RETURNS ledger.stream_top[]
LANGUAGE plpgsql AS $$
DECLARE
    tops    ledger.stream_top[] := '{}';
    tenant  uuid;
    writing bigint;
    top     bigint;
BEGIN
    FOR tenant, writing IN
        SELECT p.tenant_id, count(*)
        FROM unnest(postings) AS p
        WHERE p.idempotency_key = '' OR p.req = ANY (claimed)
        GROUP BY p.tenant_id
        ORDER BY p.tenant_id
    LOOP
        UPDATE ledger.streams s SET last_seq = s.last_seq + writing WHERE s.tenant_id = tenant
        RETURNING s.last_seq INTO top;
        IF top IS NULL THEN
            RAISE EXCEPTION 'tenant % has no stream counter', tenant USING ERRCODE = 'internal_error';
        END IF;
        tops := tops || ROW(tenant, top)::ledger.stream_top;
    END LOOP;
    RETURN tops;
END
$$;
-- +goose StatementEnd

-- Inserts the entries of the postings that write, with their balances
-- after (running sums over the locked balances, in posting order) and
-- their stream positions (the last ones below each tenant's top, in
-- posting order), and sets each balance to its last entry. pos is the
-- posting's position in the group, from 1; ids numbers every posting.
-- +goose StatementBegin
CREATE FUNCTION ledger.write_entries(postings ledger.group_posting[], claimed integer[], ids bigint[],
                                     tops ledger.stream_top[], posted_at timestamptz)
RETURNS TABLE (pos integer, entry_id bigint, stream_seq bigint, balance_id bigint, balance_after numeric)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT u.*, ids[u.ordinality] AS id
        FROM unnest(postings) WITH ORDINALITY AS u
        WHERE u.idempotency_key = '' OR u.req = ANY (claimed)
    ), w AS (
        SELECT p.*, b.balance_id AS bid,
               round(b.balance + sum(p.delta) OVER (PARTITION BY b.balance_id ORDER BY p.ordinality), p.scale) AS after,
               s.last_seq - count(*) OVER (PARTITION BY p.tenant_id)
                 + row_number() OVER (PARTITION BY p.tenant_id ORDER BY p.ordinality) AS seq,
               row_number() OVER (PARTITION BY b.balance_id ORDER BY p.ordinality DESC) AS from_last
        FROM p
        JOIN ledger.balances b
          ON b.tenant_id = p.tenant_id AND b.customer_id = p.customer_id
         AND b.currency = p.currency AND b.website_id = p.website_id
        JOIN unnest(tops) AS s ON s.tenant_id = p.tenant_id
    ), inserted AS (
        INSERT INTO ledger.entries (tenant_id, entry_id, stream_seq, balance_id, customer_id, currency,
            website_id, kind, action, delta, balance_after, idempotency_key, comment, notify_customer, post_time)
        SELECT w.tenant_id, w.id, w.seq, w.bid, w.customer_id, w.currency, w.website_id, w.kind, w.action,
               round(w.delta, w.scale), w.after, w.idempotency_key, w.comment, w.notify_customer, posted_at
        FROM w
        RETURNING 1
    ), updated AS (
        UPDATE ledger.balances b
        SET balance = w.after, last_entry_id = w.id, update_time = posted_at
        FROM w
        WHERE w.from_last = 1 AND b.tenant_id = w.tenant_id AND b.balance_id = w.bid
        RETURNING 1
    )
    SELECT w.ordinality::integer, w.id, w.seq, w.bid, w.after
    FROM w
    CROSS JOIN (SELECT ledger.expect_rows('update balances', (SELECT count(*) FROM updated),
                                          (SELECT count(*) FROM w WHERE w.from_last = 1))) balances_checked
    CROSS JOIN (SELECT ledger.expect_rows('insert entries', (SELECT count(*) FROM inserted),
                                          (SELECT count(*) FROM w))) entries_checked;
END
$$;
-- +goose StatementEnd

-- The group's writes, step by step. A request whose key was already taken
-- writes nothing: a row of kind 1 returns its request number (item) and the
-- key's record. Every entry written returns a row of kind 0, item being its
-- posting's position. Entry ids are ascending in posting order, and within
-- a tenant stream positions too, so every balance's chain reads in stream
-- order.
-- +goose StatementBegin
CREATE FUNCTION ledger.post_group(postings ledger.group_posting[], balances ledger.balance_key[],
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

-- +goose Down
DROP FUNCTION ledger.post_group(ledger.group_posting[], ledger.balance_key[], ledger.key_claim[]);
DROP FUNCTION ledger.write_entries(ledger.group_posting[], integer[], bigint[], ledger.stream_top[], timestamptz);
DROP FUNCTION ledger.advance_streams(ledger.group_posting[], integer[]);
DROP FUNCTION ledger.taken_keys(ledger.key_claim[], integer[]);
DROP FUNCTION ledger.claim_keys(ledger.key_claim[], bigint[]);
DROP FUNCTION ledger.lock_balances(ledger.balance_key[]);
DROP TYPE ledger.stream_top;
DROP TYPE ledger.key_claim;
DROP TYPE ledger.balance_key;
DROP TYPE ledger.group_posting;
