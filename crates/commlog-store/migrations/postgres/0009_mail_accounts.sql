-- IMAP mailboxes (PostgreSQL). Kept in lockstep with ../sqlite/0009_mail_accounts.sql.
--
-- Each account's password is sealed by the server. Each watched folder keeps its checkpoint
-- (UIDVALIDITY and the last UID captured), so a sync resumes where it stopped and a
-- UIDVALIDITY change starts that folder over (deduplication keeps it from doubling logs).

CREATE TABLE mail_accounts (
    company_id UUID NOT NULL REFERENCES companies(id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    security TEXT NOT NULL,
    username TEXT NOT NULL,
    sealed_password TEXT NOT NULL,
    folders TEXT NOT NULL,
    start_date TIMESTAMPTZ,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    last_sync_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, id)
);

CREATE TABLE mail_folder_states (
    company_id UUID NOT NULL,
    account_id UUID NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, account_id, folder),
    FOREIGN KEY (company_id, account_id) REFERENCES mail_accounts(company_id, id) ON DELETE CASCADE
);

ALTER TABLE mail_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_folder_states ENABLE ROW LEVEL SECURITY;
-- The sync supervisor lists the active accounts of every company.
CREATE POLICY tenant_isolation ON mail_accounts
    USING (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*')
    WITH CHECK (company_id = commlog_current_company() OR current_setting('commlog.company_id', true) = '*');
CREATE POLICY tenant_isolation ON mail_folder_states USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
