-- loses: api_key, hold_bundle, idempotency_record, resource_hold.bundle_id
DROP TABLE IF EXISTS idempotency_record;
DROP INDEX IF EXISTS idx_hold_bundle_rows;
ALTER TABLE resource_hold DROP COLUMN IF EXISTS bundle_id;
DROP TABLE IF EXISTS hold_bundle;
DROP TABLE IF EXISTS api_key;
