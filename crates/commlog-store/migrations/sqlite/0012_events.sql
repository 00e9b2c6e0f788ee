-- Real-time events (SQLite). Kept in lockstep with ../postgres/0012_events.sql, which explains
-- the design.

ALTER TABLE outbox ADD COLUMN seq BIGINT;
ALTER TABLE outbox ADD COLUMN publish_order BIGINT;
CREATE UNIQUE INDEX idx_outbox_company_seq ON outbox (company_id, seq) WHERE seq IS NOT NULL;
CREATE UNIQUE INDEX idx_outbox_publish_order ON outbox (publish_order) WHERE publish_order IS NOT NULL;

CREATE TABLE event_sequences (
    company_id BLOB NOT NULL REFERENCES companies(id),
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (company_id)
);

CREATE TABLE event_publish_counter (
    id INTEGER NOT NULL,
    last_order BIGINT NOT NULL,
    PRIMARY KEY (id)
);
INSERT INTO event_publish_counter (id, last_order) VALUES (1, 0);

UPDATE outbox SET published_at = created_at WHERE published_at IS NULL;
