-- resbook 0004 for SQLite: a client's idempotency token gets a key space of its own (see
-- the PostgreSQL file for why). hold_request holds each token (unique) and what it asked
-- for; resource_hold.request_token names a hold's request; idempotency_token is the row's
-- own key, made up by resbook.

CREATE TABLE hold_request (
    id             INTEGER PRIMARY KEY,
    token          VARCHAR(200) NOT NULL,
    resource_id    INTEGER      NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date_from      DATE         NOT NULL,
    date_to        DATE         NOT NULL,
    quantity       INTEGER      NOT NULL CHECK (quantity > 0),
    customer_email VARCHAR(320) NOT NULL,
    created_at     TIMESTAMP    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CHECK (date_to >= date_from)
);
CREATE UNIQUE INDEX idx_hold_request_token ON hold_request (token);

ALTER TABLE resource_hold ADD COLUMN request_token VARCHAR(200);
CREATE INDEX idx_hold_request_rows ON resource_hold (request_token);

-- Holds made before keep answering to their token as they did: a row "<T>@<date>" whose
-- row "<T>" is the same request (same resource, email and quantity, an earlier date)
-- belongs to T; every other row is a request of its own under its own token.
UPDATE resource_hold AS r SET request_token = p.idempotency_token
FROM resource_hold AS p
WHERE substr(r.idempotency_token, -11) = '@' || r.date
  AND p.idempotency_token = substr(r.idempotency_token, 1, length(r.idempotency_token) - 11)
  AND p.resource_id = r.resource_id AND p.customer_email = r.customer_email
  AND p.quantity = r.quantity AND p.date < r.date;
UPDATE resource_hold SET request_token = idempotency_token WHERE request_token IS NULL;
INSERT INTO hold_request (token, resource_id, date_from, date_to, quantity, customer_email,
                          created_at)
SELECT request_token, min(resource_id), min(date), max(date), min(quantity),
       min(customer_email), min(created_at)
FROM resource_hold GROUP BY request_token;
