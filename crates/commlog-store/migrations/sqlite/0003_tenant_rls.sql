-- Row-level security is a PostgreSQL feature; an embedded SQLite database serves one
-- deployment and relies on the application's company filters alone. This file keeps the
-- migration lists of both engines in step.
SELECT 1;
