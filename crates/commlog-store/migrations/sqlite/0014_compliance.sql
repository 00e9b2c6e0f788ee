-- Data protection (SQLite). Kept in lockstep with ../postgres/0014_compliance.sql, which
-- explains each part.

-- When retention archived a log (hidden from default lists, still found by compliance), and when
-- its content was purged (by retention or erasure; the row stays as a tombstone).
ALTER TABLE crm_communication_logs ADD COLUMN archived_at TEXT;
ALTER TABLE crm_communication_logs ADD COLUMN purged_at TEXT;
CREATE INDEX idx_logs_retention ON crm_communication_logs (company_id, start_time) WHERE purged_at IS NULL;

CREATE TABLE legal_holds (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    -- customer, contact, thread, log, or query (the q_* columns; every one set must match).
    target_type TEXT NOT NULL,
    target_id BLOB,
    q_customer_id BLOB,
    q_contact_id BLOB,
    q_channel TEXT,
    q_communication_type TEXT,
    q_start_after TEXT,
    q_start_before TEXT,
    reason TEXT NOT NULL,
    owner_user_id BLOB NOT NULL,
    created_by_user_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    released_at TEXT,
    released_by_user_id BLOB,
    release_reason TEXT,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, owner_user_id) REFERENCES users(company_id, id)
);
CREATE INDEX idx_legal_holds_active ON legal_holds (company_id, target_type, target_id) WHERE released_at IS NULL;

CREATE TABLE retention_policies (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    category_id BLOB,
    channel TEXT,
    communication_type TEXT,
    archive_after_days INTEGER,
    delete_after_days INTEGER,
    keep_tombstone INTEGER NOT NULL DEFAULT 1,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, name),
    FOREIGN KEY (company_id, category_id) REFERENCES crm_communication_categories(company_id, id)
);

CREATE TABLE erasure_requests (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    -- contact, email or phone; the identifier itself is kept only until the erasure completes.
    subject_type TEXT NOT NULL,
    subject_contact_id BLOB,
    subject_identifier TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by_user_id BLOB NOT NULL,
    logs_total INTEGER NOT NULL DEFAULT 0,
    logs_done INTEGER NOT NULL DEFAULT 0,
    receipt TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (company_id, id)
);

-- Deleted and purged text leaves no trace in the full-text index (not only a delete marker).
INSERT INTO crm_communication_logs_fts(crm_communication_logs_fts, rank) VALUES ('secure-delete', 1);
