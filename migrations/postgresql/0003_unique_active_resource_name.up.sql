-- resbook 0003: at most one active resource per name (case-insensitive, outer spaces ignored).
-- The database is the referee: two sessions adding, renaming or activating a resource with
-- the same name at once cannot both win. Inactive and deleted resources may share a name.
-- If two active resources already share a name this migration stops and changes nothing:
-- rename or deactivate all but one (`resbook resources list --active`) and migrate again.

CREATE UNIQUE INDEX idx_resource_active_name ON resource (lower(trim(name)))
    WHERE is_active AND deleted_at IS NULL;
