-- resbook 0004: a client's idempotency token gets a key space of its own.
-- Until now a range hold stored its later rows as "<token>@<date>" in
-- resource_hold.idempotency_token, the same unique index a client's token went to, so a
-- client token of that shape met another request's rows. Now:
--   hold_request               one row per request made with a token: the token (unique)
--                              and what was asked for, so a replay is decided here;
--   resource_hold.request_token the request a hold belongs to (not unique);
--   resource_hold.idempotency_token is the row's own key, made up by resbook.

CREATE TABLE hold_request (
    id             BIGSERIAL PRIMARY KEY,
    token          VARCHAR(200) NOT NULL,
    resource_id    BIGINT       NOT NULL REFERENCES resource (id) ON DELETE CASCADE,
    date_from      DATE         NOT NULL,
    date_to        DATE         NOT NULL,
    quantity       INTEGER      NOT NULL CHECK (quantity > 0),
    customer_email VARCHAR(320) NOT NULL,
    created_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CHECK (date_to >= date_from)
);
CREATE UNIQUE INDEX idx_hold_request_token ON hold_request (token);

ALTER TABLE resource_hold ADD COLUMN request_token VARCHAR(200);
CREATE INDEX idx_hold_request_rows ON resource_hold (request_token);

-- Holds made before keep answering to their token as they did: a row "<T>@<date>" whose
-- row "<T>" is the same request (same resource, email and quantity, an earlier date)
-- belongs to T; every other row is a request of its own under its own token.
UPDATE resource_hold r SET request_token = p.idempotency_token
FROM resource_hold p
WHERE right(r.idempotency_token, 11) = '@' || to_char(r.date, 'YYYY-MM-DD')
  AND p.idempotency_token = left(r.idempotency_token, -11)
  AND p.resource_id = r.resource_id AND p.customer_email = r.customer_email
  AND p.quantity = r.quantity AND p.date < r.date;
UPDATE resource_hold SET request_token = idempotency_token WHERE request_token IS NULL;
INSERT INTO hold_request (token, resource_id, date_from, date_to, quantity, customer_email,
                          created_at)
SELECT request_token, min(resource_id), min(date), max(date), min(quantity),
       min(customer_email), min(created_at)
FROM resource_hold GROUP BY request_token;
