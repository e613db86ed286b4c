-- resbook 0002: the audit trail, and the link from an allocation to the hold it confirmed.

CREATE TABLE booking_event (
    id             INTEGER PRIMARY KEY,
    occurred_at    TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    actor          VARCHAR(200) NOT NULL,
    action         VARCHAR(50)  NOT NULL,
    entity         VARCHAR(30)  NOT NULL,
    entity_id      INTEGER,
    resource_id    INTEGER,
    date_from      DATE,
    date_to        DATE,
    customer_email VARCHAR(320),
    details        JSON         NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);

CREATE INDEX idx_event_entity ON booking_event (entity, entity_id);
CREATE INDEX idx_event_resource ON booking_event (resource_id, occurred_at);
CREATE INDEX idx_event_customer ON booking_event (customer_email);
CREATE INDEX idx_event_occurred ON booking_event (occurred_at);

ALTER TABLE resource_allocation
    ADD COLUMN hold_id INTEGER REFERENCES resource_hold (id) ON DELETE SET NULL;
-- A hold is confirmed into at most one allocation.
CREATE UNIQUE INDEX idx_allocation_hold ON resource_allocation (hold_id);
