-- loses: nothing (each request's token goes back into resource_hold.idempotency_token)
-- Back to the old shape: a request's token on its first row, "<token>@<date>" on the
-- others. Where the old shape cannot say it (a token of that shape that another request
-- used meanwhile), the request's own first row wins and the other row keeps a made-up key.

-- 1. A row whose key is some other request's token steps aside.
UPDATE resource_hold h SET idempotency_token = md5(random()::text || h.id::text)
WHERE EXISTS (SELECT 1 FROM hold_request q
              WHERE q.token = h.idempotency_token
                AND (h.request_token IS DISTINCT FROM q.token OR h.date <> q.date_from));
-- 2. Each request's first row carries its token.
UPDATE resource_hold h SET idempotency_token = q.token
FROM hold_request q
WHERE h.request_token = q.token AND h.date = q.date_from AND h.idempotency_token <> q.token;
-- 3. Its later rows carry "<token>@<date>" where that key is free.
UPDATE resource_hold h SET idempotency_token = q.token || '@' || to_char(h.date, 'YYYY-MM-DD')
FROM hold_request q
WHERE h.request_token = q.token AND h.date > q.date_from
  AND h.idempotency_token <> q.token || '@' || to_char(h.date, 'YYYY-MM-DD')
  AND NOT EXISTS (SELECT 1 FROM resource_hold o
                  WHERE o.idempotency_token = q.token || '@' || to_char(h.date, 'YYYY-MM-DD'));
DROP INDEX IF EXISTS idx_hold_request_rows;
ALTER TABLE resource_hold DROP COLUMN IF EXISTS request_token;
DROP TABLE IF EXISTS hold_request;
