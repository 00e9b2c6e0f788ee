-- Automatic processing (PostgreSQL). Kept in lockstep with ../sqlite/0010_processing.sql.
--
-- Each log keeps what processing found that has no column of its own (`analysis`: sentiment
-- per speaker and the most negative part, PII spans, transcript segments, escalation) and its
-- detected language. Every processing step that ran leaves a row in `log_processing_runs`
-- (what, when, with which engine and version), so a log's results can be explained and re-run.

ALTER TABLE crm_communication_logs ADD COLUMN language TEXT;
ALTER TABLE crm_communication_logs ADD COLUMN analysis JSONB NOT NULL DEFAULT '{}';

-- Categories set by processing carry their confidence; those set by people have none.
ALTER TABLE crm_communication_log_categories ADD COLUMN confidence DOUBLE PRECISION;
ALTER TABLE crm_communication_log_categories ADD COLUMN assigned_by TEXT NOT NULL DEFAULT 'user';

-- Jobs name the log they work on, so a log can show its jobs.
ALTER TABLE jobs ADD COLUMN subject_id UUID;
CREATE INDEX idx_jobs_subject ON jobs (company_id, subject_id) WHERE subject_id IS NOT NULL;

CREATE TABLE log_processing_runs (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    job_id UUID,
    step TEXT NOT NULL,
    engine TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    status TEXT NOT NULL,
    detail JSONB NOT NULL DEFAULT '{}',
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id)
);
CREATE INDEX idx_processing_runs_log ON log_processing_runs (company_id, communication_log_id, finished_at);

CREATE TABLE company_processing_settings (
    company_id UUID NOT NULL REFERENCES companies(id),
    settings JSONB NOT NULL,
    -- The external transcription engine's API key, sealed with the master key; never returned.
    sealed_transcription_key TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id)
);

CREATE TABLE escalation_rules (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    rule JSONB NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, name)
);

-- Texts that teach auto-categorisation: examples an admin gives, and logs whose automatic
-- category a person corrected.
CREATE TABLE category_examples (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    category_id UUID NOT NULL,
    text TEXT NOT NULL,
    origin TEXT NOT NULL,
    communication_log_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, category_id) REFERENCES crm_communication_categories(company_id, id)
);
CREATE INDEX idx_category_examples_category ON category_examples (company_id, category_id);

ALTER TABLE log_processing_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE company_processing_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE escalation_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE category_examples ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON log_processing_runs USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON company_processing_settings USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON escalation_rules USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON category_examples USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
