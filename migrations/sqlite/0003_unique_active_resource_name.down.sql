-- loses: nothing (an index)
DROP INDEX IF EXISTS idx_resource_active_name;
