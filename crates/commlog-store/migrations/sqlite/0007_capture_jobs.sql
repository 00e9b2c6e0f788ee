-- Capture processing (SQLite). Kept in lockstep with ../postgres/0007_capture_jobs.sql, which
-- explains each part.

ALTER TABLE crm_channel_configurations ADD COLUMN integration_settings TEXT;
ALTER TABLE crm_channel_configurations ADD COLUMN record_calls BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE crm_communication_logs ADD COLUMN call_outcome TEXT;

ALTER TABLE capture_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'call';
ALTER TABLE capture_events ADD COLUMN subject TEXT;
ALTER TABLE capture_events ADD COLUMN event TEXT;
ALTER TABLE capture_events ADD COLUMN outcome TEXT;
CREATE INDEX idx_capture_events_subject ON capture_events (company_id, provider, kind, subject);

CREATE TABLE jobs (
    company_id BLOB NOT NULL,
    id BLOB NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_jobs_due ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX idx_jobs_status ON jobs (company_id, status, created_at);

-- Caller-ID matching looks customers up by their phone.
CREATE INDEX idx_customers_phone ON customers (company_id, phone);

CREATE TABLE company_own_numbers (
    company_id BLOB NOT NULL REFERENCES companies(id),
    phone TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (company_id, phone)
);

CREATE TABLE customer_numbers (
    company_id BLOB NOT NULL,
    phone TEXT NOT NULL,
    customer_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (company_id, phone),
    FOREIGN KEY (company_id, customer_id) REFERENCES customers(company_id, id)
);

CREATE TABLE conversation_threads (
    company_id BLOB NOT NULL REFERENCES companies(id),
    source TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    thread_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (company_id, source, thread_key)
);

CREATE TABLE message_deliveries (
    company_id BLOB NOT NULL REFERENCES companies(id),
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, source, external_id)
);
