-- resbook 0005: what the shop's HTTP API (`resbook serve`) keeps.
--   api_key            who may call it: a name, a role, and the SHA-256 of the secret (the
--                      secret itself is shown once, never stored); a short prefix to tell
--                      keys apart in a list; revoked_at ends a key without losing its name.
--   hold_bundle        one hold request over HTTP: every line of every date, all or none.
--                      Its id is the id the shop sees; resource_hold.bundle_id names its holds.
--   idempotency_record one Idempotency-Key per API key and route: the hash of the request
--                      body and the stored answer (status_code NULL while the first request
--                      is in flight). The unique index decides which request is first.

CREATE TABLE api_key (
    id          BIGSERIAL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    role        VARCHAR(20)  NOT NULL CHECK (role IN ('store', 'admin')),
    prefix      VARCHAR(20)  NOT NULL,
    secret_hash VARCHAR(64)  NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_api_key_secret ON api_key (secret_hash);

CREATE TABLE hold_bundle (
    id             BIGSERIAL PRIMARY KEY,
    customer_email VARCHAR(320) NOT NULL,
    api_key_id     BIGINT       REFERENCES api_key (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- No foreign key: SQLite cannot drop a column that has one, and both dialects keep one shape.
ALTER TABLE resource_hold ADD COLUMN bundle_id BIGINT;
CREATE INDEX idx_hold_bundle_rows ON resource_hold (bundle_id);

CREATE TABLE idempotency_record (
    id              BIGSERIAL PRIMARY KEY,
    api_key_id      BIGINT       NOT NULL REFERENCES api_key (id) ON DELETE CASCADE,
    route           VARCHAR(300) NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    request_hash    VARCHAR(64)  NOT NULL,
    status_code     INTEGER,
    response_body   TEXT,
    location        VARCHAR(300),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_idempotency_scope ON idempotency_record (api_key_id, route, idempotency_key);
CREATE INDEX idx_idempotency_created ON idempotency_record (created_at);
