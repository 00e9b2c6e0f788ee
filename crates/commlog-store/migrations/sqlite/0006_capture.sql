-- Capture (SQLite): a channel's webhook provider and sealed secret, and the ledger of
-- captured events — each stored once per provider dedupe key, in the transaction that
-- acknowledges it. Kept in lockstep with ../postgres/0006_capture.sql.

ALTER TABLE crm_channel_configurations ADD COLUMN provider TEXT;
-- Sealed by the server with the master key; never returned by the API.
ALTER TABLE crm_channel_configurations ADD COLUMN webhook_secret TEXT;

CREATE TABLE capture_events (
    company_id BLOB NOT NULL,
    id BLOB NOT NULL,
    channel_id BLOB NOT NULL,
    provider TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    processed_at TEXT,
    communication_log_id BLOB,
    PRIMARY KEY (company_id, id),
    UNIQUE (company_id, provider, dedupe_key),
    FOREIGN KEY (company_id, channel_id) REFERENCES crm_channel_configurations(company_id, id)
);
