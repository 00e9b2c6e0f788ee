-- Analytics (PostgreSQL). Kept in lockstep with ../sqlite/0011_analytics.sql.
--
-- `analytics_hourly` holds, per company, UTC hour and dimension (team, assignee, type, channel,
-- direction, status), the counts and sums every report adds up. Triggers on the log table keep it
-- current in the same transaction as the change, whatever path wrote the log (API, capture,
-- processing, bulk actions, retention), so figures never lag and never drift; a changed log moves
-- its counts from its old row to its new one. Hours are UTC so that one table serves every time
-- zone: an hourly row belongs wholly to one local day in any zone with whole-hour offsets
-- (reports in other zones read the logs themselves). `commlog analytics verify` recomputes a
-- period from the logs and compares.

ALTER TABLE crm_communication_logs ADD COLUMN satisfaction_score INTEGER;
-- When the follow-up was completed, for the time a follow-up takes (set by the trigger below).
ALTER TABLE crm_communication_logs ADD COLUMN follow_up_completed_at TIMESTAMPTZ;

CREATE TABLE analytics_hourly (
    company_id UUID NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    -- The nil UUID stands for "none": primary-key columns cannot be NULL.
    team_id UUID NOT NULL,
    user_id UUID NOT NULL,
    communication_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    status TEXT NOT NULL,
    logs BIGINT NOT NULL DEFAULT 0,
    duration_seconds BIGINT NOT NULL DEFAULT 0,
    timed BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    missed BIGINT NOT NULL DEFAULT 0,
    positive BIGINT NOT NULL DEFAULT 0,
    neutral BIGINT NOT NULL DEFAULT 0,
    negative BIGINT NOT NULL DEFAULT 0,
    scored BIGINT NOT NULL DEFAULT 0,
    sentiment_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    follow_ups BIGINT NOT NULL DEFAULT 0,
    follow_ups_completed BIGINT NOT NULL DEFAULT 0,
    follow_ups_overdue BIGINT NOT NULL DEFAULT 0,
    rated BIGINT NOT NULL DEFAULT 0,
    satisfaction_sum BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, bucket, team_id, user_id, communication_type, channel, direction, status)
);

-- Adds (sign 1) or removes (sign -1) one log's share of its hourly row.
CREATE FUNCTION analytics_hourly_apply(r crm_communication_logs, sign BIGINT) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_hourly AS a (
        company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored,
        sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        r.company_id,
        date_trunc('hour', r.start_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        coalesce(r.team_id, '00000000-0000-0000-0000-000000000000'),
        coalesce(r.assigned_to_user_id, '00000000-0000-0000-0000-000000000000'),
        r.communication_type, r.channel, r.direction, r.status,
        sign,
        sign * coalesce(r.duration_seconds, 0),
        CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END,
        CASE WHEN r.call_outcome = 'answered' THEN sign ELSE 0 END,
        CASE WHEN r.communication_type = 'call' AND r.direction = 'inbound'
                  AND r.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled')
             THEN sign ELSE 0 END,
        CASE WHEN r.sentiment = 'positive' THEN sign ELSE 0 END,
        CASE WHEN r.sentiment = 'neutral' THEN sign ELSE 0 END,
        CASE WHEN r.sentiment = 'negative' THEN sign ELSE 0 END,
        CASE WHEN r.sentiment_score IS NOT NULL THEN sign ELSE 0 END,
        sign * coalesce(r.sentiment_score, 0),
        CASE WHEN r.requires_follow_up THEN sign ELSE 0 END,
        CASE WHEN r.requires_follow_up AND r.follow_up_status = 'completed' THEN sign ELSE 0 END,
        CASE WHEN r.requires_follow_up AND r.follow_up_status = 'overdue' THEN sign ELSE 0 END,
        CASE WHEN r.satisfaction_score IS NOT NULL THEN sign ELSE 0 END,
        sign * coalesce(r.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, team_id, user_id, communication_type, channel, direction, status)
    DO UPDATE SET
        logs = a.logs + excluded.logs,
        duration_seconds = a.duration_seconds + excluded.duration_seconds,
        timed = a.timed + excluded.timed,
        answered = a.answered + excluded.answered,
        missed = a.missed + excluded.missed,
        positive = a.positive + excluded.positive,
        neutral = a.neutral + excluded.neutral,
        negative = a.negative + excluded.negative,
        scored = a.scored + excluded.scored,
        sentiment_sum = a.sentiment_sum + excluded.sentiment_sum,
        follow_ups = a.follow_ups + excluded.follow_ups,
        follow_ups_completed = a.follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = a.follow_ups_overdue + excluded.follow_ups_overdue,
        rated = a.rated + excluded.rated,
        satisfaction_sum = a.satisfaction_sum + excluded.satisfaction_sum;
END $$;

CREATE FUNCTION analytics_hourly_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD.is_deleted THEN
        PERFORM analytics_hourly_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NOT NEW.is_deleted THEN
        PERFORM analytics_hourly_apply(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_hourly_insert AFTER INSERT ON crm_communication_logs
    FOR EACH ROW EXECUTE FUNCTION analytics_hourly_track();
CREATE TRIGGER analytics_hourly_delete AFTER DELETE ON crm_communication_logs
    FOR EACH ROW EXECUTE FUNCTION analytics_hourly_track();
-- Only changes that move a figure touch the rollup: edits of content, processing results other
-- than sentiment, and the like cost nothing here.
CREATE TRIGGER analytics_hourly_update AFTER UPDATE ON crm_communication_logs
    FOR EACH ROW WHEN (
        OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
        OR OLD.start_time IS DISTINCT FROM NEW.start_time
        OR OLD.team_id IS DISTINCT FROM NEW.team_id
        OR OLD.assigned_to_user_id IS DISTINCT FROM NEW.assigned_to_user_id
        OR OLD.communication_type IS DISTINCT FROM NEW.communication_type
        OR OLD.channel IS DISTINCT FROM NEW.channel
        OR OLD.direction IS DISTINCT FROM NEW.direction
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.duration_seconds IS DISTINCT FROM NEW.duration_seconds
        OR OLD.call_outcome IS DISTINCT FROM NEW.call_outcome
        OR OLD.sentiment IS DISTINCT FROM NEW.sentiment
        OR OLD.sentiment_score IS DISTINCT FROM NEW.sentiment_score
        OR OLD.requires_follow_up IS DISTINCT FROM NEW.requires_follow_up
        OR OLD.follow_up_status IS DISTINCT FROM NEW.follow_up_status
        OR OLD.satisfaction_score IS DISTINCT FROM NEW.satisfaction_score)
    EXECUTE FUNCTION analytics_hourly_track();

-- Stamps (and clears) the completion time of a follow-up as its status changes.
CREATE FUNCTION follow_up_completion_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.follow_up_status = 'completed' AND OLD.follow_up_status IS DISTINCT FROM 'completed' THEN
        NEW.follow_up_completed_at := NEW.updated_at;
    ELSIF NEW.follow_up_status IS DISTINCT FROM 'completed' THEN
        NEW.follow_up_completed_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER follow_up_completion BEFORE UPDATE OF follow_up_status ON crm_communication_logs
    FOR EACH ROW EXECUTE FUNCTION follow_up_completion_stamp();

-- Per-company analytics settings: business-hours calendars, SLA targets and channel costs.
CREATE TABLE analytics_settings (
    company_id UUID NOT NULL REFERENCES companies(id),
    settings JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id)
);

-- The live counters count open follow-ups by status.
CREATE INDEX idx_logs_follow_up_open ON crm_communication_logs (company_id, follow_up_status) WHERE requires_follow_up AND NOT is_deleted;

ALTER TABLE analytics_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics_hourly USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
CREATE POLICY tenant_isolation ON analytics_settings USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());

-- Logs written before this migration count too.
INSERT INTO analytics_hourly (
    company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
    logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored,
    sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
SELECT company_id,
       date_trunc('hour', start_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
       coalesce(team_id, '00000000-0000-0000-0000-000000000000'),
       coalesce(assigned_to_user_id, '00000000-0000-0000-0000-000000000000'),
       communication_type, channel, direction, status,
       count(*),
       coalesce(sum(duration_seconds), 0),
       count(duration_seconds),
       count(*) FILTER (WHERE call_outcome = 'answered'),
       count(*) FILTER (WHERE communication_type = 'call' AND direction = 'inbound'
                        AND call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled')),
       count(*) FILTER (WHERE sentiment = 'positive'),
       count(*) FILTER (WHERE sentiment = 'neutral'),
       count(*) FILTER (WHERE sentiment = 'negative'),
       count(sentiment_score),
       coalesce(sum(sentiment_score), 0),
       count(*) FILTER (WHERE requires_follow_up),
       count(*) FILTER (WHERE requires_follow_up AND follow_up_status = 'completed'),
       count(*) FILTER (WHERE requires_follow_up AND follow_up_status = 'overdue'),
       0, 0
FROM crm_communication_logs
WHERE NOT is_deleted
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
