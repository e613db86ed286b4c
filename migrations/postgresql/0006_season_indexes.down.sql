-- loses: nothing (indexes)
DROP INDEX IF EXISTS idx_hold_expires_all;
DROP INDEX IF EXISTS idx_hold_active_id;
DROP INDEX IF EXISTS idx_event_action;
DROP INDEX IF EXISTS idx_event_resource;
CREATE INDEX idx_event_resource ON booking_event (resource_id, occurred_at);
