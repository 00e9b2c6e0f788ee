-- Analytics triggers fire at commit: PostgreSQL only (see ../postgres/0019_analytics_at_commit.sql).
-- SQLite runs one writer at a time, so its triggers hold no lock another writer waits for; it
-- keeps them as they are.
SELECT 1;
