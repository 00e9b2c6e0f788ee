-- Indexes for what analytics still reads from the logs (SQLite). Kept in lockstep with
-- ../postgres/0018_analytics_indexes.sql, which explains why; SQLite has no INCLUDE, so the
-- covered columns follow the key.

CREATE INDEX idx_logs_conversations ON crm_communication_logs (company_id, start_time, id, thread_id, communication_type,
    direction, status, priority, channel, team_id, assigned_to_user_id, updated_at)
    WHERE is_deleted = 0 AND communication_type <> 'note' AND (thread_id IS NOT NULL OR direction = 'inbound');

CREATE INDEX idx_logs_negative ON crm_communication_logs (company_id, sentiment_score, start_time DESC)
    WHERE is_deleted = 0 AND sentiment_score < 0;

CREATE INDEX idx_logs_follow_up_done ON crm_communication_logs (company_id, start_time, follow_up_completed_at)
    WHERE is_deleted = 0 AND requires_follow_up AND follow_up_completed_at IS NOT NULL;

CREATE INDEX idx_logs_customer_sentiment ON crm_communication_logs (company_id, start_time, customer_id, sentiment, sentiment_score)
    WHERE is_deleted = 0 AND customer_id IS NOT NULL;
