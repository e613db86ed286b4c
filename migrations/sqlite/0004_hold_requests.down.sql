-- loses: nothing (each request's token goes back into resource_hold.idempotency_token)
-- Back to the old shape: a request's token on its first row, "<token>@<date>" on the others.
UPDATE resource_hold AS h
SET idempotency_token = CASE WHEN h.date = q.date_from THEN q.token
                             ELSE q.token || '@' || h.date END
FROM hold_request AS q
WHERE h.request_token = q.token
  AND h.idempotency_token <> CASE WHEN h.date = q.date_from THEN q.token
                                  ELSE q.token || '@' || h.date END;
DROP INDEX IF EXISTS idx_hold_request_rows;
ALTER TABLE resource_hold DROP COLUMN request_token;
DROP TABLE IF EXISTS hold_request;
