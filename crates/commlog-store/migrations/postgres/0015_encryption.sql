-- Encryption at rest (PostgreSQL). Kept in lockstep with ../sqlite/0015_encryption.sql.
--
-- Data keys (per company, per contact, per customer, and one that keys the search index),
-- each stored wrapped by a master key that never enters the database, with that master key's
-- id. A destroyed key keeps its row (id, scope, when) but not its material.
CREATE TABLE data_keys (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    scope TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    destroyed_at TIMESTAMPTZ,
    PRIMARY KEY (company_id, id)
);
CREATE UNIQUE INDEX idx_data_keys_live_scope ON data_keys (company_id, scope) WHERE destroyed_at IS NULL;

-- The blind index: keyed hashes of each log's words, searched instead of the full-text index
-- while encryption is on.
CREATE TABLE log_search_tokens (
    company_id UUID NOT NULL,
    token TEXT NOT NULL,
    communication_log_id UUID NOT NULL,
    PRIMARY KEY (company_id, token, communication_log_id)
);
CREATE INDEX idx_search_tokens_log ON log_search_tokens (company_id, communication_log_id);

-- A keyed hash of a participant's address or number, to find a person's logs while the
-- address itself is sealed.
ALTER TABLE crm_communication_participants ADD COLUMN address_token TEXT;
CREATE INDEX idx_participants_address_token ON crm_communication_participants (company_id, address_token) WHERE address_token IS NOT NULL;
CREATE INDEX idx_participants_contact ON crm_communication_participants (company_id, contact_id);

ALTER TABLE data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE log_search_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_keys USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON log_search_tokens USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
