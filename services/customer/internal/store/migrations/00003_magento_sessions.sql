-- +goose Up
-- Magento SOAP sessions: login with a Magento credential opens one, and its
-- id then authenticates each call until endSession, the credential's
-- revocation, or ABACUS_MAGENTO_SESSION_TTL of idleness. Every customer
-- service replica (and so every gateway) must see them, so they live here
-- and not in a process. The id is a bearer secret of 128 random bits: only
-- its SHA-256 is stored, and, like an igsend public key, it arrives without a
-- tenant, so the hash is unique across tenants.
CREATE TABLE customer.magento_sessions (
    tenant_id     uuid NOT NULL,
    session_hash  bytea NOT NULL CHECK (length(session_hash) = 32),
    credential_id uuid NOT NULL,
    create_time   timestamptz NOT NULL DEFAULT now(),
    last_use_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, session_hash),
    CONSTRAINT magento_sessions_hash_key UNIQUE (session_hash),
    CONSTRAINT magento_sessions_credential_fkey FOREIGN KEY (tenant_id, credential_id)
        REFERENCES customer.credentials (tenant_id, credential_id)
);
-- Revoking a credential deletes its sessions; the janitor deletes the idle.
CREATE INDEX magento_sessions_credential ON customer.magento_sessions (tenant_id, credential_id);
CREATE INDEX magento_sessions_last_use ON customer.magento_sessions (last_use_time);

-- +goose Down
DROP TABLE customer.magento_sessions;
