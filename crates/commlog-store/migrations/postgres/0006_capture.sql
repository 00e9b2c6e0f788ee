-- Capture (PostgreSQL): a channel's webhook provider and sealed secret, and the ledger of
-- captured events — each stored once per provider dedupe key, in the transaction that
-- acknowledges it. Kept in lockstep with ../sqlite/0006_capture.sql.

ALTER TABLE crm_channel_configurations ADD COLUMN provider TEXT;
-- Sealed by the server with the master key; never returned by the API.
ALTER TABLE crm_channel_configurations ADD COLUMN webhook_secret TEXT;

CREATE TABLE capture_events (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    channel_id UUID NOT NULL,
    provider TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    payload TEXT NOT NULL,
    processed_at TIMESTAMPTZ,
    communication_log_id UUID,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, provider, dedupe_key),
    FOREIGN KEY (company_id, channel_id) REFERENCES crm_channel_configurations(company_id, id)
);

ALTER TABLE capture_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON capture_events USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());

-- A webhook names its channel before anyone knows the company: channel configurations join the
-- tables that system work may read across companies (few rows, single-row queries).
DROP POLICY tenant_isolation ON crm_channel_configurations;
CREATE POLICY tenant_isolation ON crm_channel_configurations
    USING (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*')
    WITH CHECK (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*');
