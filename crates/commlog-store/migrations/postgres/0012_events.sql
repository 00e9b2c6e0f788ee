-- Real-time events (PostgreSQL). Kept in lockstep with ../sqlite/0012_events.sql.
--
-- Events wait in the outbox, written in the transaction of the change that caused them. A
-- publisher (one at a time: it locks the counters it advances) gives each a per-company
-- sequence number (`seq`, what clients resume from) and a global publication order
-- (`publish_order`, what every server process tails to deliver them to its WebSocket clients).

ALTER TABLE outbox ADD COLUMN seq BIGINT;
ALTER TABLE outbox ADD COLUMN publish_order BIGINT;
CREATE UNIQUE INDEX idx_outbox_company_seq ON outbox (company_id, seq) WHERE seq IS NOT NULL;
CREATE UNIQUE INDEX idx_outbox_publish_order ON outbox (publish_order) WHERE publish_order IS NOT NULL;

CREATE TABLE event_sequences (
    company_id UUID NOT NULL REFERENCES companies(id),
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (company_id)
);

-- One row: the last publication order given out.
CREATE TABLE event_publish_counter (
    id INTEGER NOT NULL,
    last_order BIGINT NOT NULL,
    PRIMARY KEY (id)
);
INSERT INTO event_publish_counter (id, last_order) VALUES (1, 0);

-- Events of before real-time delivery existed are history, not news.
UPDATE outbox SET published_at = created_at WHERE published_at IS NULL;

-- The publisher and the tailers read every company's events.
DROP POLICY tenant_isolation ON outbox;
CREATE POLICY tenant_isolation ON outbox USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));
ALTER TABLE event_sequences ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_sequences USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));
