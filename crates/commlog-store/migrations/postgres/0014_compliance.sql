-- Data protection (PostgreSQL). Kept in lockstep with ../sqlite/0014_compliance.sql.
--
-- Retention archives and later purges logs by policy; legal holds exempt what they cover from
-- retention and erasure; erasure requests record a data subject's erasure, its progress and its
-- receipt (counts only: never the erased data).

-- When retention archived a log (hidden from default lists, still found by compliance), and when
-- its content was purged (by retention or erasure; the row stays as a tombstone).
ALTER TABLE crm_communication_logs ADD COLUMN archived_at TIMESTAMPTZ;
ALTER TABLE crm_communication_logs ADD COLUMN purged_at TIMESTAMPTZ;
CREATE INDEX idx_logs_retention ON crm_communication_logs (company_id, start_time) WHERE purged_at IS NULL;

CREATE TABLE legal_holds (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    -- customer, contact, thread, log, or query (the q_* columns; every one set must match).
    target_type TEXT NOT NULL,
    target_id UUID,
    q_customer_id UUID,
    q_contact_id UUID,
    q_channel TEXT,
    q_communication_type TEXT,
    q_start_after TIMESTAMPTZ,
    q_start_before TIMESTAMPTZ,
    reason TEXT NOT NULL,
    owner_user_id UUID NOT NULL,
    created_by_user_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    released_at TIMESTAMPTZ,
    released_by_user_id UUID,
    release_reason TEXT,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, owner_user_id) REFERENCES users(company_id, id)
);
CREATE INDEX idx_legal_holds_active ON legal_holds (company_id, target_type, target_id) WHERE released_at IS NULL;

CREATE TABLE retention_policies (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    category_id UUID,
    channel TEXT,
    communication_type TEXT,
    archive_after_days INTEGER,
    delete_after_days INTEGER,
    keep_tombstone BOOLEAN NOT NULL DEFAULT TRUE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, name),
    FOREIGN KEY (company_id, category_id) REFERENCES crm_communication_categories(company_id, id)
);

CREATE TABLE erasure_requests (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    -- contact, email or phone; the identifier itself is kept only until the erasure completes.
    subject_type TEXT NOT NULL,
    subject_contact_id UUID,
    subject_identifier TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by_user_id UUID NOT NULL,
    logs_total BIGINT NOT NULL DEFAULT 0,
    logs_done BIGINT NOT NULL DEFAULT 0,
    receipt JSONB NOT NULL DEFAULT '{}',
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (company_id, id)
);

ALTER TABLE legal_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE erasure_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON legal_holds USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON retention_policies USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON erasure_requests USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
