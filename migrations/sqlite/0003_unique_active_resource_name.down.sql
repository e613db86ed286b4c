DROP INDEX IF EXISTS idx_resource_active_name;
