-- resbook 0006: indexes for reading a page of a season, not the whole of it (issue 13).
--   idx_hold_expires_all  `holds list` (any status, soonest expiry first) reads its page
--                         off the index instead of sorting every hold;
--   idx_hold_active_id    the sweep takes due holds in id order, batch after batch,
--                         without walking every closed hold before them;
--   idx_event_action      `events --action` (newest first) finds a rare action at once;
--   idx_event_resource    now (resource_id, id): every read of the trail orders by id, so
--                         `events --resource` walks this resource's entries newest first.
--                         It was (resource_id, occurred_at), which nothing orders by.

CREATE INDEX idx_hold_expires_all ON resource_hold (expires_at, id);
CREATE INDEX idx_hold_active_id ON resource_hold (id) WHERE status = 'ACTIVE';
CREATE INDEX idx_event_action ON booking_event (action, id);
DROP INDEX IF EXISTS idx_event_resource;
CREATE INDEX idx_event_resource ON booking_event (resource_id, id);
