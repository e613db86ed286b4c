"""How hold and allocation rows are read back into records: one column list, one mapper."""

from __future__ import annotations

from .context import as_date, as_time
from .records import Allocation, Hold

# request_token comes last: a hold made with a caller's token shows that token, one made
# without shows the key resbook made up for it (idempotency_token).
HOLD_COLUMNS = (
    "id, resource_id, date, quantity, customer_email, idempotency_token, status, expires_at, "
    "created_at, updated_at, request_token"
)
HOLD_COLUMN_COUNT = 11
ALLOCATION_COLUMNS = "id, resource_id, date, quantity, order_id, line_item_id, hold_id, created_at"


def hold_from_row(row: tuple, replay: bool = False) -> Hold:
    return Hold(
        id=row[0],
        resource_id=row[1],
        date=as_date(row[2]),
        quantity=row[3],
        customer_email=row[4],
        token=row[10] or row[5],
        status=row[6],
        expires_at=as_time(row[7]),
        created_at=as_time(row[8]),
        updated_at=as_time(row[9]),
        replay=replay,
    )


def allocation_from_row(row: tuple) -> Allocation:
    return Allocation(
        id=row[0],
        resource_id=row[1],
        date=as_date(row[2]),
        quantity=row[3],
        order_id=row[4],
        line_item_id=row[5],
        hold_id=row[6],
        created_at=as_time(row[7]),
    )
