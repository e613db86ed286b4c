-- resbook 0005 for SQLite: what the shop's HTTP API keeps (see the PostgreSQL file): API
-- keys (hashed), hold bundles (resource_hold.bundle_id) and idempotency records.

CREATE TABLE api_key (
    id          INTEGER PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    role        VARCHAR(20)  NOT NULL CHECK (role IN ('store', 'admin')),
    prefix      VARCHAR(20)  NOT NULL,
    secret_hash VARCHAR(64)  NOT NULL,
    created_at  TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    revoked_at  TIMESTAMP
);
CREATE UNIQUE INDEX idx_api_key_secret ON api_key (secret_hash);

CREATE TABLE hold_bundle (
    id             INTEGER PRIMARY KEY,
    customer_email VARCHAR(320) NOT NULL,
    api_key_id     INTEGER      REFERENCES api_key (id) ON DELETE SET NULL,
    created_at     TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

ALTER TABLE resource_hold ADD COLUMN bundle_id INTEGER;
CREATE INDEX idx_hold_bundle_rows ON resource_hold (bundle_id);

CREATE TABLE idempotency_record (
    id              INTEGER PRIMARY KEY,
    api_key_id      INTEGER      NOT NULL REFERENCES api_key (id) ON DELETE CASCADE,
    route           VARCHAR(300) NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    request_hash    VARCHAR(64)  NOT NULL,
    status_code     INTEGER,
    response_body   TEXT,
    location        VARCHAR(300),
    created_at      TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE UNIQUE INDEX idx_idempotency_scope ON idempotency_record (api_key_id, route, idempotency_key);
CREATE INDEX idx_idempotency_created ON idempotency_record (created_at);
