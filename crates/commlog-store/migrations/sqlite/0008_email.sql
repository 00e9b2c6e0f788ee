-- E-mail capture (SQLite). Kept in lockstep with ../postgres/0008_email.sql, which explains
-- each part.

CREATE TABLE email_sightings (
    company_id BLOB NOT NULL,
    communication_log_id BLOB NOT NULL,
    mailbox TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (company_id, communication_log_id, mailbox),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id)
);

CREATE TABLE email_quarantine (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    retried_at TEXT,
    communication_log_id BLOB,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_email_quarantine_open ON email_quarantine (company_id, received_at) WHERE communication_log_id IS NULL;

CREATE INDEX idx_customers_email_domain ON customers (company_id, email_domain) WHERE is_deleted = 0;

CREATE TABLE capture_addresses (
    company_id BLOB NOT NULL REFERENCES companies(id),
    token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (company_id),
    UNIQUE (token)
);

-- On a reply from the company: seconds since the oldest message it answered was received.
ALTER TABLE crm_communication_logs ADD COLUMN response_seconds BIGINT;

-- A company's capture policy for mail (JSON): unknown senders, blocked addresses, internal mail.
CREATE TABLE company_email_settings (
    company_id BLOB NOT NULL REFERENCES companies(id),
    settings TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id)
);
