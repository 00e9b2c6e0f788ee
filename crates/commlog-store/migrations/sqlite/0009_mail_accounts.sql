-- IMAP mailboxes (SQLite). Kept in lockstep with ../postgres/0009_mail_accounts.sql, which
-- explains each part.

CREATE TABLE mail_accounts (
    company_id BLOB NOT NULL REFERENCES companies(id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    security TEXT NOT NULL,
    username TEXT NOT NULL,
    sealed_password TEXT NOT NULL,
    folders TEXT NOT NULL,
    start_date TEXT,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    last_sync_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, id)
);

CREATE TABLE mail_folder_states (
    company_id BLOB NOT NULL,
    account_id BLOB NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company_id, account_id, folder),
    FOREIGN KEY (company_id, account_id) REFERENCES mail_accounts(company_id, id) ON DELETE CASCADE
);
