-- Commlog core schema (PostgreSQL). Kept in lockstep with ../sqlite/0001_core.sql by a test.
-- Every tenant table leads its keys with company_id; composite foreign keys make a reference
-- to another company's row impossible.

CREATE TABLE companies (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    default_country_code TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE teams (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, name)
);

CREATE TABLE users (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id UUID,
    capacity INTEGER NOT NULL DEFAULT 50,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_compliance BOOLEAN NOT NULL DEFAULT FALSE,
    mfa_secret TEXT,
    mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, team_id) REFERENCES teams(company_id, id)
);
CREATE INDEX idx_users_team ON users (company_id, team_id);

CREATE TABLE customers (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    email_domain TEXT,
    phone TEXT,
    external_ref TEXT,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_customers_name ON customers (company_id, lower(name));
CREATE INDEX idx_customers_domain ON customers (company_id, email_domain);

CREATE TABLE contacts (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    customer_id UUID,
    full_name TEXT NOT NULL,
    title TEXT,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, customer_id) REFERENCES customers(company_id, id)
);
CREATE INDEX idx_contacts_customer ON contacts (company_id, customer_id);

CREATE TABLE contact_emails (
    company_id UUID NOT NULL,
    contact_id UUID NOT NULL,
    email TEXT NOT NULL,
    PRIMARY KEY (company_id, contact_id, email),
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts(company_id, id) ON DELETE CASCADE
);
CREATE INDEX idx_contact_emails_email ON contact_emails (company_id, email);

CREATE TABLE contact_phones (
    company_id UUID NOT NULL,
    contact_id UUID NOT NULL,
    phone TEXT NOT NULL,
    PRIMARY KEY (company_id, contact_id, phone),
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts(company_id, id) ON DELETE CASCADE
);
CREATE INDEX idx_contact_phones_phone ON contact_phones (company_id, phone);

CREATE TABLE crm_communication_categories (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    category_name TEXT NOT NULL,
    category_code TEXT NOT NULL,
    description TEXT,
    parent_category_id UUID,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    default_priority TEXT NOT NULL DEFAULT 'normal',
    auto_categorization BOOLEAN NOT NULL DEFAULT FALSE,
    color TEXT,
    icon TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, category_code),
    FOREIGN KEY (company_id, parent_category_id) REFERENCES crm_communication_categories(company_id, id)
);

CREATE TABLE crm_channel_configurations (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    channel_name TEXT NOT NULL,
    channel_code TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    description TEXT,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    requires_authentication BOOLEAN NOT NULL DEFAULT FALSE,
    api_endpoint TEXT,
    api_key TEXT,
    webhook_url TEXT,
    auto_transcription BOOLEAN NOT NULL DEFAULT FALSE,
    sentiment_analysis BOOLEAN NOT NULL DEFAULT FALSE,
    auto_categorization BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, channel_code)
);

CREATE TABLE crm_communication_logs (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    customer_id UUID,
    contact_id UUID,
    assigned_to_user_id UUID,
    created_by_user_id UUID NOT NULL,
    updated_by_user_id UUID,
    team_id UUID,
    communication_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    subject TEXT NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    end_time TIMESTAMPTZ,
    duration_minutes BIGINT,
    duration_seconds BIGINT,
    content TEXT NOT NULL,
    summary TEXT,
    transcription TEXT,
    priority TEXT NOT NULL DEFAULT 'normal',
    status TEXT NOT NULL DEFAULT 'logged',
    is_internal BOOLEAN NOT NULL DEFAULT FALSE,
    sentiment TEXT,
    sentiment_score DOUBLE PRECISION,
    key_topics JSONB NOT NULL DEFAULT '[]',
    requires_follow_up BOOLEAN NOT NULL DEFAULT FALSE,
    follow_up_assigned_to UUID,
    follow_up_date TIMESTAMPTZ,
    follow_up_status TEXT,
    source TEXT NOT NULL DEFAULT 'manual',
    external_id TEXT,
    thread_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at TIMESTAMPTZ,
    -- Stored so that search never re-parses rows (PostgreSQL only; SQLite uses FTS5).
    search_vector TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(subject, '')), 'A') ||
        setweight(to_tsvector('english', left(content, 100000)), 'B')
    ) STORED,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, customer_id) REFERENCES customers(company_id, id),
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts(company_id, id),
    FOREIGN KEY (company_id, assigned_to_user_id) REFERENCES users(company_id, id),
    FOREIGN KEY (company_id, created_by_user_id) REFERENCES users(company_id, id),
    FOREIGN KEY (company_id, team_id) REFERENCES teams(company_id, id)
);
CREATE UNIQUE INDEX idx_logs_source_external ON crm_communication_logs (company_id, source, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX idx_logs_start ON crm_communication_logs (company_id, start_time DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX idx_logs_channel_start ON crm_communication_logs (company_id, channel, start_time DESC, id DESC) WHERE NOT is_deleted;
CREATE INDEX idx_logs_type_start ON crm_communication_logs (company_id, communication_type, start_time DESC) WHERE NOT is_deleted;
CREATE INDEX idx_logs_customer ON crm_communication_logs (company_id, customer_id, start_time DESC);
CREATE INDEX idx_logs_contact ON crm_communication_logs (company_id, contact_id);
CREATE INDEX idx_logs_assigned ON crm_communication_logs (company_id, assigned_to_user_id, status);
CREATE INDEX idx_logs_creator ON crm_communication_logs (company_id, created_by_user_id);
CREATE INDEX idx_logs_team ON crm_communication_logs (company_id, team_id, start_time DESC);
CREATE INDEX idx_logs_created ON crm_communication_logs (company_id, created_at);
CREATE INDEX idx_logs_thread ON crm_communication_logs (company_id, thread_id);
CREATE INDEX idx_logs_search ON crm_communication_logs USING GIN (search_vector);

CREATE TABLE crm_communication_participants (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    name TEXT,
    contact_id UUID,
    user_id UUID,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id),
    FOREIGN KEY (company_id, contact_id) REFERENCES contacts(company_id, id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
CREATE INDEX idx_participants_log ON crm_communication_participants (company_id, communication_log_id);
CREATE INDEX idx_participants_email ON crm_communication_participants (company_id, email);
CREATE INDEX idx_participants_phone ON crm_communication_participants (company_id, phone);

CREATE TABLE crm_communication_attachments (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    uploaded_by_user_id UUID NOT NULL,
    file_name TEXT NOT NULL,
    file_type TEXT NOT NULL,
    file_size BIGINT NOT NULL,
    file_path TEXT NOT NULL,
    checksum_sha256 TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'available',
    is_public BOOLEAN NOT NULL DEFAULT FALSE,
    is_internal BOOLEAN NOT NULL DEFAULT FALSE,
    download_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at TIMESTAMPTZ,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id),
    FOREIGN KEY (company_id, uploaded_by_user_id) REFERENCES users(company_id, id)
);
CREATE INDEX idx_attachments_log ON crm_communication_attachments (company_id, communication_log_id, created_at);
CREATE INDEX idx_attachments_type ON crm_communication_attachments (company_id, file_type);

CREATE TABLE crm_communication_log_categories (
    company_id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    category_id UUID NOT NULL,
    PRIMARY KEY (company_id, communication_log_id, category_id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id),
    FOREIGN KEY (company_id, category_id) REFERENCES crm_communication_categories(company_id, id)
);
CREATE INDEX idx_log_categories_category ON crm_communication_log_categories (company_id, category_id);

CREATE TABLE tags (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    color TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, name)
);

CREATE TABLE crm_communication_log_tags (
    company_id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    tag_id UUID NOT NULL,
    PRIMARY KEY (company_id, communication_log_id, tag_id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id),
    FOREIGN KEY (company_id, tag_id) REFERENCES tags(company_id, id)
);
CREATE INDEX idx_log_tags_tag ON crm_communication_log_tags (company_id, tag_id);

CREATE TABLE crm_communication_watchers (
    company_id UUID NOT NULL,
    communication_log_id UUID NOT NULL,
    user_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, communication_log_id, user_id),
    FOREIGN KEY (company_id, communication_log_id) REFERENCES crm_communication_logs(company_id, id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
CREATE INDEX idx_watchers_user ON crm_communication_watchers (company_id, user_id);

CREATE TABLE idempotency_keys (
    company_id UUID NOT NULL,
    user_id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, user_id, idempotency_key)
);

CREATE TABLE audit_log (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_user_id UUID,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id UUID,
    changes JSONB NOT NULL DEFAULT '{}',
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_audit_entity ON audit_log (company_id, entity_type, entity_id, occurred_at);

CREATE TABLE outbox (
    company_id UUID NOT NULL,
    id UUID NOT NULL,
    event_type TEXT NOT NULL,
    aggregate_id UUID NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    PRIMARY KEY (company_id, id)
);
CREATE INDEX idx_outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
