-- Encryption at rest (SQLite). Kept in lockstep with ../postgres/0015_encryption.sql, which
-- explains each part.

CREATE TABLE data_keys (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    scope TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    destroyed_at TEXT,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX idx_data_keys_live_scope ON data_keys (company_id, scope) WHERE destroyed_at IS NULL;

-- The blind index: keyed hashes of each log's words, searched instead of the full-text index
-- while encryption is on.
CREATE TABLE log_search_tokens (
    company_id BLOB NOT NULL,
    token TEXT NOT NULL,
    communication_log_id BLOB NOT NULL,
    PRIMARY KEY (company_id, token, communication_log_id)
);
CREATE INDEX idx_search_tokens_log ON log_search_tokens (company_id, communication_log_id);

-- A keyed hash of a participant's address or number, to find a person's logs while the
-- address itself is sealed.
ALTER TABLE crm_communication_participants ADD COLUMN address_token TEXT;
CREATE INDEX idx_participants_address_token ON crm_communication_participants (company_id, address_token) WHERE address_token IS NOT NULL;
CREATE INDEX idx_participants_contact ON crm_communication_participants (company_id, contact_id);
