-- resbook 0001 for SQLite: the same tables, indexes and constraints as PostgreSQL.
-- Timestamps are UTC text ('YYYY-MM-DD HH:MM:SS.SSS'), dates are 'YYYY-MM-DD' text,
-- booleans are 0/1 and JSON is text checked by json_valid().

CREATE TABLE resource (
    id          INTEGER PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    type        VARCHAR(20)  NOT NULL CHECK (type IN ('VEHICLE', 'TOUR', 'GUIDE')),
    description TEXT,
    is_active   BOOLEAN      NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    metadata    JSON         NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at  TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at  TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    deleted_at  TIMESTAMP
);

CREATE TABLE resource_capacity (
    id                 INTEGER PRIMARY KEY,
    resource_id        INTEGER   NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date               DATE      NOT NULL,
    max_capacity       INTEGER   NOT NULL CHECK (max_capacity >= 0),
    available_capacity INTEGER   NOT NULL
        CHECK (available_capacity >= 0 AND available_capacity <= max_capacity),
    created_at         TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at         TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CONSTRAINT uq_resource_date UNIQUE (resource_id, date)
);

CREATE TABLE resource_blackout (
    id          INTEGER PRIMARY KEY,
    resource_id INTEGER   NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    start_date  DATE      NOT NULL,
    end_date    DATE      NOT NULL,
    reason      TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CHECK (end_date >= start_date)
);

CREATE TABLE resource_hold (
    id                INTEGER PRIMARY KEY,
    resource_id       INTEGER      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date              DATE         NOT NULL,
    quantity          INTEGER      NOT NULL CHECK (quantity > 0),
    customer_email    VARCHAR(320) NOT NULL,
    idempotency_token VARCHAR(200) NOT NULL,
    status            VARCHAR(20)  NOT NULL DEFAULT 'ACTIVE'
        CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    expires_at        TIMESTAMP    NOT NULL,
    created_at        TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at        TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE resource_allocation (
    id           INTEGER PRIMARY KEY,
    resource_id  INTEGER      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date         DATE         NOT NULL,
    quantity     INTEGER      NOT NULL CHECK (quantity > 0),
    order_id     VARCHAR(200) NOT NULL,
    line_item_id VARCHAR(200) NOT NULL,
    created_at   TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE INDEX idx_resource_type ON resource (type);
CREATE INDEX idx_resource_active ON resource (is_active);
CREATE INDEX idx_capacity_date ON resource_capacity (date);
CREATE INDEX idx_capacity_resource_date ON resource_capacity (resource_id, date);
CREATE INDEX idx_blackout_resource_dates ON resource_blackout (resource_id, start_date, end_date);
CREATE UNIQUE INDEX idx_hold_idempotency ON resource_hold (idempotency_token);
CREATE INDEX idx_hold_resource_date_status ON resource_hold (resource_id, date, status);
CREATE INDEX idx_hold_expires ON resource_hold (expires_at) WHERE status = 'ACTIVE';
CREATE INDEX idx_hold_customer ON resource_hold (customer_email);
CREATE INDEX idx_allocation_resource_date ON resource_allocation (resource_id, date);
CREATE INDEX idx_allocation_order ON resource_allocation (order_id);
CREATE INDEX idx_allocation_line_item ON resource_allocation (line_item_id);

-- SQLite has no trigger functions: each table gets an AFTER UPDATE trigger that stamps
-- updated_at unless the statement set it itself (the WHEN guard also stops recursion).
CREATE TRIGGER update_resource_updated_at AFTER UPDATE ON resource
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE resource SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER update_resource_capacity_updated_at AFTER UPDATE ON resource_capacity
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE resource_capacity SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER update_resource_blackout_updated_at AFTER UPDATE ON resource_blackout
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE resource_blackout SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER update_resource_hold_updated_at AFTER UPDATE ON resource_hold
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE resource_hold SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
