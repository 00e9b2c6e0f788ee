-- Consent (SQLite). Kept in lockstep with ../postgres/0016_consent.sql, which explains it.
ALTER TABLE contacts ADD COLUMN recording_consent BOOLEAN;
ALTER TABLE contacts ADD COLUMN processing_consent BOOLEAN;
