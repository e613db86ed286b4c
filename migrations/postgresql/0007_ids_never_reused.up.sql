-- resbook 0007 for PostgreSQL: nothing to change. SQLite's 0007 keeps allocation and
-- blackout ids from being handed out again (AUTOINCREMENT); PostgreSQL's BIGSERIAL
-- sequences never go back. The version exists here so both dialects count alike.
SELECT 1;
