-- loses: nothing (the same rows, in tables whose ids may be handed out again)
CREATE TABLE resource_allocation_new (
    id           INTEGER PRIMARY KEY,
    resource_id  INTEGER      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date         DATE         NOT NULL,
    quantity     INTEGER      NOT NULL CHECK (quantity > 0),
    order_id     VARCHAR(200) NOT NULL,
    line_item_id VARCHAR(200) NOT NULL,
    created_at   TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    hold_id      INTEGER REFERENCES resource_hold (id) ON DELETE SET NULL
);
INSERT INTO resource_allocation_new
    (id, resource_id, date, quantity, order_id, line_item_id, created_at, hold_id)
    SELECT id, resource_id, date, quantity, order_id, line_item_id, created_at, hold_id
    FROM resource_allocation;
DROP TABLE resource_allocation;
ALTER TABLE resource_allocation_new RENAME TO resource_allocation;
CREATE INDEX idx_allocation_resource_date ON resource_allocation (resource_id, date);
CREATE INDEX idx_allocation_order ON resource_allocation (order_id);
CREATE INDEX idx_allocation_line_item ON resource_allocation (line_item_id);
CREATE UNIQUE INDEX idx_allocation_hold ON resource_allocation (hold_id);

CREATE TABLE resource_blackout_new (
    id          INTEGER PRIMARY KEY,
    resource_id INTEGER   NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    start_date  DATE      NOT NULL,
    end_date    DATE      NOT NULL,
    reason      TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at  TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CHECK (end_date >= start_date)
);
INSERT INTO resource_blackout_new
    (id, resource_id, start_date, end_date, reason, created_at, updated_at)
    SELECT id, resource_id, start_date, end_date, reason, created_at, updated_at
    FROM resource_blackout;
DROP TABLE resource_blackout;
ALTER TABLE resource_blackout_new RENAME TO resource_blackout;
CREATE INDEX idx_blackout_resource_dates ON resource_blackout (resource_id, start_date, end_date);
CREATE TRIGGER update_resource_blackout_updated_at AFTER UPDATE ON resource_blackout
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE resource_blackout SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
