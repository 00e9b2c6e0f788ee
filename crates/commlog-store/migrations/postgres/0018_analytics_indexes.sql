-- Indexes for what analytics still reads from the logs (PostgreSQL). Kept in lockstep with
-- ../sqlite/0018_analytics_indexes.sql.
--
-- Response times, first-contact resolution, the most negative conversations and the time a
-- follow-up takes are measured from the logs of the period, not from a rollup. Without these a
-- quarter's report read every log of the quarter from the table (a parallel scan of all of it,
-- at ten million logs gigabytes); with them it reads only the index entries it uses.

-- The logs that can measure a conversation (threaded ones, and lone ones the customer started),
-- with every column the measuring reads, so the table itself is not visited.
CREATE INDEX idx_logs_conversations ON crm_communication_logs (company_id, start_time)
    INCLUDE (id, thread_id, communication_type, direction, status, priority, channel, team_id, assigned_to_user_id, updated_at)
    WHERE NOT is_deleted AND communication_type <> 'note' AND (thread_id IS NOT NULL OR direction = 'inbound');

-- The most negative logs first: a period's ten most negative are the first ten in the period.
CREATE INDEX idx_logs_negative ON crm_communication_logs (company_id, sentiment_score, start_time DESC)
    WHERE NOT is_deleted AND sentiment_score < 0;

-- Completed follow-ups by the time of their communication, with the completion.
CREATE INDEX idx_logs_follow_up_done ON crm_communication_logs (company_id, start_time) INCLUDE (follow_up_completed_at)
    WHERE NOT is_deleted AND requires_follow_up AND follow_up_completed_at IS NOT NULL;

-- Sentiment per customer over a period, read from the index alone.
CREATE INDEX idx_logs_customer_sentiment ON crm_communication_logs (company_id, start_time)
    INCLUDE (customer_id, sentiment, sentiment_score)
    WHERE NOT is_deleted AND customer_id IS NOT NULL;
