-- Automatic processing (SQLite). Kept in lockstep with ../postgres/0010_processing.sql, which
-- explains each part.

ALTER TABLE crm_communication_logs ADD COLUMN language TEXT;
ALTER TABLE crm_communication_logs ADD COLUMN analysis TEXT NOT NULL DEFAULT '{}';

-- Categories set by processing carry their confidence; those set by people have none.
ALTER TABLE crm_communication_log_categories ADD COLUMN confidence REAL;
ALTER TABLE crm_communication_log_categories ADD COLUMN assigned_by TEXT NOT NULL DEFAULT 'user';

-- Jobs name the log they work on, so a log can show its jobs.
ALTER TABLE jobs ADD COLUMN subject_id BLOB;
CREATE INDEX idx_jobs_subject ON jobs (company_id, subject_id) WHERE subject_id IS NOT NULL;

CREATE TABLE log_processing_runs (
    company_id BLOB NOT NULL,
    id BLOB NOT NULL,
    communication_log_id BLOB NOT NULL,
    job_id BLOB,
    step TEXT NOT NULL,
    engine TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id)
);
CREATE INDEX idx_processing_runs_log ON log_processing_runs (company_id, communication_log_id, finished_at);

CREATE TABLE company_processing_settings (
    company_id BLOB NOT NULL REFERENCES companies(id),
    settings TEXT NOT NULL,
    -- The external transcription engine's API key, sealed with the master key; never returned.
    sealed_transcription_key TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id)
);

CREATE TABLE escalation_rules (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    rule TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, name)
);

-- Texts that teach auto-categorisation: examples an admin gives, and logs whose automatic
-- category a person corrected.
CREATE TABLE category_examples (
    company_id BLOB NOT NULL,
    id BLOB NOT NULL,
    category_id BLOB NOT NULL,
    text TEXT NOT NULL,
    origin TEXT NOT NULL,
    communication_log_id BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, category_id) REFERENCES crm_communication_categories(company_id, id)
);
CREATE INDEX idx_category_examples_category ON category_examples (company_id, category_id);
