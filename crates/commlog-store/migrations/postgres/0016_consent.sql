-- Consent (PostgreSQL). Kept in lockstep with ../sqlite/0016_consent.sql.
--
-- What each contact agreed to: recording their calls, and automatic processing of what they
-- say (transcription, sentiment, topics, categories). NULL: not recorded; then the company's
-- policy decides (processing settings `consent_required`).
ALTER TABLE contacts ADD COLUMN recording_consent BOOLEAN;
ALTER TABLE contacts ADD COLUMN processing_consent BOOLEAN;
