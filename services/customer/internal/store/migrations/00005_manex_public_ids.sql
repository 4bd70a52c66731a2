-- +goose Up
-- A MANEX credential's identifier used to be the first two characters of
-- its key, which showed part of the secret wherever credentials are listed.
-- It becomes a public id drawn apart from the key, mx_ and 16 characters
-- (new keys get theirs from the service; these take random hex digits of
-- two v4 UUIDs, none of their fixed version or variant digits), unique like
-- every other public identifier.
UPDATE customer.credentials
SET identifier = 'mx_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)
                       || substr(replace(gen_random_uuid()::text, '-', ''), 21, 4)
WHERE kind = 4;
CREATE UNIQUE INDEX credentials_manex_id ON customer.credentials (identifier) WHERE kind = 4;

-- +goose Down
DROP INDEX customer.credentials_manex_id;
