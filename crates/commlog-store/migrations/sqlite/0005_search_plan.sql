-- PostgreSQL-only (search planning); keeps both engines' migration lists in step.
SELECT 1;
