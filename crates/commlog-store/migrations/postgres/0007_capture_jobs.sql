-- Capture processing (PostgreSQL). Kept in lockstep with ../sqlite/0007_capture_jobs.sql.
--
-- - Channels carry their integration: non-secret settings (public URL, provider account,
--   recording hosts) and the per-channel consent to keep call recordings.
-- - Captured events carry their kind, subject (call or thread) and normalised form, so the
--   deferred work folds every event of one call whatever order they came in.
-- - `jobs`: durable background work with retries, backoff and a dead letter. A webhook inserts
--   its event and the job that processes it in the transaction that acknowledges it.
-- - Caller-ID matching: the company's own numbers (never a customer), numbers a user linked to
--   a customer, message threads and message delivery states.

ALTER TABLE crm_channel_configurations ADD COLUMN integration_settings TEXT;
ALTER TABLE crm_channel_configurations ADD COLUMN record_calls BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE crm_communication_logs ADD COLUMN call_outcome TEXT;

ALTER TABLE capture_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'call';
ALTER TABLE capture_events ADD COLUMN subject TEXT;
ALTER TABLE capture_events ADD COLUMN event TEXT;
ALTER TABLE capture_events ADD COLUMN outcome TEXT;
CREATE INDEX idx_capture_events_subject ON capture_events (company_id, provider, kind, subject);

CREATE TABLE jobs (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_jobs_due ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX idx_jobs_status ON jobs (company_id, status, created_at);

-- Caller-ID matching looks customers up by their phone.
CREATE INDEX idx_customers_phone ON customers (company_id, phone);

CREATE TABLE company_own_numbers (
    company_id UUID NOT NULL REFERENCES companies(id),
    phone TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, phone)
);

CREATE TABLE customer_numbers (
    company_id UUID NOT NULL,
    phone TEXT NOT NULL,
    customer_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, phone),
    FOREIGN KEY (company_id, customer_id) REFERENCES customers(company_id, id)
);

CREATE TABLE conversation_threads (
    company_id UUID NOT NULL REFERENCES companies(id),
    source TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    thread_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, source, thread_key)
);

CREATE TABLE message_deliveries (
    company_id UUID NOT NULL REFERENCES companies(id),
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, source, external_id)
);

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE company_own_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_threads ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON company_own_numbers USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON customer_numbers USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON conversation_threads USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON message_deliveries USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());

-- The job runner claims due work across companies, then does each job acting for its company.
CREATE POLICY tenant_isolation ON jobs
    USING (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*')
    WITH CHECK (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*');
