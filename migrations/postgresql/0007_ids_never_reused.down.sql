-- loses: nothing (0007 changed nothing on PostgreSQL)
SELECT 1;
