-- Identity and audit (SQLite): sessions with refresh-token rotation, sign-in lockout, MFA
-- recovery codes, API tokens, and the per-company hash chain of the audit trail.
-- Kept in lockstep with ../postgres/0002_identity.sql by a test.

ALTER TABLE companies ADD COLUMN mfa_required_roles TEXT NOT NULL DEFAULT '[]';

ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;
ALTER TABLE users ADD COLUMN mfa_recovery_codes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN password_changed_at TEXT;

-- One row per sign-in. The refresh token in use is `refresh_jti`; presenting an older one
-- means it was stolen or replayed, and revokes the session.
CREATE TABLE sessions (
    company_id BLOB NOT NULL,
    id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    refresh_jti BLOB NOT NULL,
    mfa_passed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_reason TEXT,
    ip TEXT,
    user_agent TEXT,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, user_id) REFERENCES users(company_id, id)
);
CREATE INDEX idx_sessions_user ON sessions (company_id, user_id, created_at);

-- Integration credentials: the secret is shown once and stored as a SHA-256 hash.
CREATE TABLE api_tokens (
    company_id BLOB NOT NULL,
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',
    created_by_user_id BLOB NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    expires_at TEXT,
    revoked_at TEXT,
    PRIMARY KEY (company_id, id),
    FOREIGN KEY (company_id, created_by_user_id) REFERENCES users(company_id, id)
);
CREATE UNIQUE INDEX idx_api_tokens_id ON api_tokens (id);

-- The audit chain: `seq` and `hash` are set by the sealer, in order, shortly after commit.
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX idx_audit_seq ON audit_log (company_id, seq);
CREATE INDEX idx_audit_unsealed ON audit_log (company_id, occurred_at, id) WHERE seq IS NULL;
CREATE INDEX idx_audit_time ON audit_log (company_id, occurred_at);

CREATE TABLE audit_chain_heads (
    company_id BLOB PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
