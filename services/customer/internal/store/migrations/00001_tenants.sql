-- +goose Up
-- Tenants are companies. A sandbox tenant is the twin of a live tenant that
-- igsend sandbox keys act for, so sandbox traffic never touches live data.
CREATE TABLE customer.tenants (
    tenant_id      uuid PRIMARY KEY,
    name           text NOT NULL,
    company        text NOT NULL,
    sandbox        boolean NOT NULL DEFAULT false,
    live_tenant_id uuid REFERENCES customer.tenants (tenant_id),
    create_time    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_company_key UNIQUE (company, sandbox),
    CONSTRAINT tenants_sandbox_twin CHECK (sandbox = (live_tenant_id IS NOT NULL))
);
CREATE UNIQUE INDEX tenants_one_sandbox ON customer.tenants (live_tenant_id) WHERE live_tenant_id IS NOT NULL;

-- Credentials authenticate the dialects. Only a SHA-256 of the secret is
-- stored: secrets are generated with at least 59 bits of entropy (MANEX keys
-- are 10 characters by contract, the rest 128+ bits), so a slow password hash
-- would add latency to every request without adding protection.
-- kind: 1 Exigo, 2 igsend live, 3 igsend sandbox, 4 MANEX, 5 Magento.
CREATE TABLE customer.credentials (
    tenant_id     uuid NOT NULL REFERENCES customer.tenants (tenant_id),
    credential_id uuid NOT NULL,
    kind          smallint NOT NULL CHECK (kind BETWEEN 1 AND 5),
    identifier    text NOT NULL,
    secret_hash   bytea NOT NULL CHECK (length(secret_hash) = 32),
    create_time   timestamptz NOT NULL DEFAULT now(),
    revoke_time   timestamptz,
    PRIMARY KEY (tenant_id, credential_id),
    CONSTRAINT credentials_id_key UNIQUE (credential_id)
);
-- Exigo logins are per company (tenant).
CREATE UNIQUE INDEX credentials_exigo_login ON customer.credentials (tenant_id, identifier) WHERE kind = 1;
-- igsend public keys and Magento API users arrive without a tenant, so they
-- are unique across tenants; so is a MANEX key (looked up by its hash).
CREATE UNIQUE INDEX credentials_igsend_public ON customer.credentials (identifier) WHERE kind IN (2, 3);
CREATE UNIQUE INDEX credentials_magento_user ON customer.credentials (identifier) WHERE kind = 5;
CREATE UNIQUE INDEX credentials_manex_key ON customer.credentials (secret_hash) WHERE kind = 4;

-- +goose Down
DROP TABLE customer.credentials;
DROP TABLE customer.tenants;
