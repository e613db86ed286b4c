-- loses: booking_event, resource_allocation.hold_id
-- SQLite cannot drop a column that is a foreign key, so the allocation table is rebuilt.
DROP INDEX IF EXISTS idx_allocation_hold;
CREATE TABLE resource_allocation_0001 (
    id           INTEGER PRIMARY KEY,
    resource_id  INTEGER      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date         DATE         NOT NULL,
    quantity     INTEGER      NOT NULL CHECK (quantity > 0),
    order_id     VARCHAR(200) NOT NULL,
    line_item_id VARCHAR(200) NOT NULL,
    created_at   TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
INSERT INTO resource_allocation_0001 (id, resource_id, date, quantity, order_id, line_item_id, created_at)
    SELECT id, resource_id, date, quantity, order_id, line_item_id, created_at FROM resource_allocation;
DROP TABLE resource_allocation;
ALTER TABLE resource_allocation_0001 RENAME TO resource_allocation;
CREATE INDEX idx_allocation_resource_date ON resource_allocation (resource_id, date);
CREATE INDEX idx_allocation_order ON resource_allocation (order_id);
CREATE INDEX idx_allocation_line_item ON resource_allocation (line_item_id);
DROP TABLE IF EXISTS booking_event;
