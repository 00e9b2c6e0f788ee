-- PostgreSQL-only (row-level security policies and the search function); keeps both engines'
-- migration lists in step.
SELECT 1;
