-- A company-wide hourly rollup (PostgreSQL). Kept in lockstep with ../sqlite/0013_analytics_company.sql.
--
-- `analytics_hourly` keeps every dimension (team, assignee, status …), so a busy company has
-- nearly as many rollup rows as logs and a company-wide report of a quarter reads hundreds of
-- thousands of them. Most reports are company-wide by channel, type and direction: this table
-- keeps just those per hour, a few rows an hour, and answers them. The same trigger function
-- maintains both tables in the writing transaction.

CREATE TABLE analytics_hourly_company (
    company_id UUID NOT NULL,
    bucket TIMESTAMPTZ NOT NULL,
    communication_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
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
    PRIMARY KEY (company_id, bucket, communication_type, channel, direction)
);

CREATE OR REPLACE FUNCTION analytics_hourly_apply(r crm_communication_logs, sign BIGINT) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO analytics_hourly AS a (company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        r.company_id,
        date_trunc('hour', r.start_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        coalesce(r.team_id, '00000000-0000-0000-0000-000000000000'),
        coalesce(r.assigned_to_user_id, '00000000-0000-0000-0000-000000000000'),
        r.communication_type,
        r.channel,
        r.direction,
        r.status,
        sign,
        sign * coalesce(r.duration_seconds, 0),
        CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END,
        CASE WHEN r.call_outcome = 'answered' THEN sign ELSE 0 END,
        CASE WHEN r.communication_type = 'call' AND r.direction = 'inbound' AND r.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN sign ELSE 0 END,
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
    ON CONFLICT (company_id, bucket, team_id, user_id, communication_type, channel, direction, status) DO UPDATE SET
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
    INSERT INTO analytics_hourly_company AS a (company_id, bucket, communication_type, channel, direction,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        r.company_id,
        date_trunc('hour', r.start_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        r.communication_type,
        r.channel,
        r.direction,
        sign,
        sign * coalesce(r.duration_seconds, 0),
        CASE WHEN r.duration_seconds IS NOT NULL THEN sign ELSE 0 END,
        CASE WHEN r.call_outcome = 'answered' THEN sign ELSE 0 END,
        CASE WHEN r.communication_type = 'call' AND r.direction = 'inbound' AND r.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN sign ELSE 0 END,
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
    ON CONFLICT (company_id, bucket, communication_type, channel, direction) DO UPDATE SET
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

ALTER TABLE analytics_hourly_company ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics_hourly_company USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());

INSERT INTO analytics_hourly_company (company_id, bucket, communication_type, channel, direction,
    logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
SELECT company_id, bucket, communication_type, channel, direction,
       CAST(coalesce(sum(logs), 0) AS BIGINT),
       CAST(coalesce(sum(duration_seconds), 0) AS BIGINT),
       CAST(coalesce(sum(timed), 0) AS BIGINT),
       CAST(coalesce(sum(answered), 0) AS BIGINT),
       CAST(coalesce(sum(missed), 0) AS BIGINT),
       CAST(coalesce(sum(positive), 0) AS BIGINT),
       CAST(coalesce(sum(neutral), 0) AS BIGINT),
       CAST(coalesce(sum(negative), 0) AS BIGINT),
       CAST(coalesce(sum(scored), 0) AS BIGINT),
       CAST(coalesce(sum(sentiment_sum), 0) AS DOUBLE PRECISION),
       CAST(coalesce(sum(follow_ups), 0) AS BIGINT),
       CAST(coalesce(sum(follow_ups_completed), 0) AS BIGINT),
       CAST(coalesce(sum(follow_ups_overdue), 0) AS BIGINT),
       CAST(coalesce(sum(rated), 0) AS BIGINT),
       CAST(coalesce(sum(satisfaction_sum), 0) AS BIGINT)
FROM analytics_hourly
GROUP BY 1, 2, 3, 4, 5;
