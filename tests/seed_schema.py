"""Names the seed schema promises (../shared/reference/SEED-SCHEMA.md), shared by tests."""

SEED_TABLES = {
    "resource",
    "resource_capacity",
    "resource_blackout",
    "resource_hold",
    "resource_allocation",
}

SEED_INDEXES = [
    "idx_resource_type",
    "idx_resource_active",
    "idx_capacity_date",
    "idx_capacity_resource_date",
    "idx_blackout_resource_dates",
    "idx_hold_idempotency",
    "idx_hold_resource_date_status",
    "idx_hold_expires",
    "idx_hold_customer",
    "idx_allocation_resource_date",
    "idx_allocation_order",
    "idx_allocation_line_item",
]

SEED_TRIGGERS = [
    "update_resource_updated_at",
    "update_resource_capacity_updated_at",
    "update_resource_blackout_updated_at",
    "update_resource_hold_updated_at",
]
