-- resbook 0001: the seed schema (5 tables, 12 named indexes, 4 triggers, 1 function).
-- Capacity CHECKs are the last line of defence against overbooking: the database itself
-- refuses available_capacity < 0 whatever the application does.

CREATE FUNCTION update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;

CREATE TABLE resource (
    id          BIGSERIAL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    type        VARCHAR(20)  NOT NULL CHECK (type IN ('VEHICLE', 'TOUR', 'GUIDE')),
    description TEXT,
    is_active   BOOLEAN      NOT NULL DEFAULT TRUE,
    metadata    JSONB        NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    deleted_at  TIMESTAMPTZ
);

CREATE TABLE resource_capacity (
    id                 BIGSERIAL PRIMARY KEY,
    resource_id        BIGINT      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date               DATE        NOT NULL,
    max_capacity       INTEGER     NOT NULL CHECK (max_capacity >= 0),
    available_capacity INTEGER     NOT NULL
        CHECK (available_capacity >= 0 AND available_capacity <= max_capacity),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_resource_date UNIQUE (resource_id, date)
);

CREATE TABLE resource_blackout (
    id          BIGSERIAL PRIMARY KEY,
    resource_id BIGINT      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    start_date  DATE        NOT NULL,
    end_date    DATE        NOT NULL,
    reason      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (end_date >= start_date)
);

CREATE TABLE resource_hold (
    id                BIGSERIAL PRIMARY KEY,
    resource_id       BIGINT       NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date              DATE         NOT NULL,
    quantity          INTEGER      NOT NULL CHECK (quantity > 0),
    customer_email    VARCHAR(320) NOT NULL,
    idempotency_token VARCHAR(200) NOT NULL,
    status            VARCHAR(20)  NOT NULL DEFAULT 'ACTIVE'
        CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    expires_at        TIMESTAMPTZ  NOT NULL,
    created_at        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE resource_allocation (
    id           BIGSERIAL PRIMARY KEY,
    resource_id  BIGINT       NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date         DATE         NOT NULL,
    quantity     INTEGER      NOT NULL CHECK (quantity > 0),
    order_id     VARCHAR(200) NOT NULL,
    line_item_id VARCHAR(200) NOT NULL,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
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

CREATE TRIGGER update_resource_updated_at BEFORE UPDATE ON resource
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_resource_capacity_updated_at BEFORE UPDATE ON resource_capacity
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_resource_blackout_updated_at BEFORE UPDATE ON resource_blackout
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_resource_hold_updated_at BEFORE UPDATE ON resource_hold
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
