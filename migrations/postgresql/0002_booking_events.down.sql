-- loses: booking_event, resource_allocation.hold_id
DROP INDEX IF EXISTS idx_allocation_hold;
ALTER TABLE resource_allocation DROP COLUMN IF EXISTS hold_id;
DROP TABLE IF EXISTS booking_event;
