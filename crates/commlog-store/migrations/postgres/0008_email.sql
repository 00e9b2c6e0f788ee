-- E-mail capture (PostgreSQL). Kept in lockstep with ../sqlite/0008_email.sql.
--
-- - Where each captured message was seen (a message in several mailboxes is one log).
-- - Messages that could not be captured, kept (in the blob store) with the reason, to retry.
-- - Customers are found by their e-mail domain.

CREATE TABLE email_sightings (
    company_id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    mailbox TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, communication_log_id, mailbox),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id)
);

CREATE TABLE email_quarantine (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    retried_at TIMESTAMPTZ,
    communication_log_id UUID,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_email_quarantine_open ON email_quarantine (company_id, received_at) WHERE communication_log_id IS NULL;

CREATE INDEX idx_customers_email_domain ON customers (company_id, email_domain) WHERE NOT is_deleted;

ALTER TABLE email_sightings ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_quarantine ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_sightings USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON email_quarantine USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());

-- The secret local part (`capture-<token>`) of each company's forwarding address.
CREATE TABLE capture_addresses (
    company_id UUID NOT NULL REFERENCES companies(id),
    token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id),
    UNIQUE (token)
);
ALTER TABLE capture_addresses ENABLE ROW LEVEL SECURITY;
-- The SMTP listener finds the company from the address before it acts for it.
CREATE POLICY tenant_isolation ON capture_addresses
    USING (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*')
    WITH CHECK (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*');

-- On a reply from the company: seconds since the oldest message it answered was received.
ALTER TABLE crm_communication_logs ADD COLUMN response_seconds BIGINT;

-- A company's capture policy for mail (JSON): unknown senders, blocked addresses, internal mail.
CREATE TABLE company_email_settings (
    company_id UUID NOT NULL REFERENCES companies(id),
    settings TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id)
);
ALTER TABLE company_email_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON company_email_settings USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
