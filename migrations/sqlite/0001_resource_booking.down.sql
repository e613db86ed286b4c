-- loses: resource_allocation, resource_hold, resource_blackout, resource_capacity, resource
-- Reverse dependency order: allocation, hold, blackout, capacity, resource (triggers go with their tables).
DROP TABLE IF EXISTS resource_allocation;
DROP TABLE IF EXISTS resource_hold;
DROP TABLE IF EXISTS resource_blackout;
DROP TABLE IF EXISTS resource_capacity;
DROP TABLE IF EXISTS resource;
