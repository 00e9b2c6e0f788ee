-- A company-wide hourly rollup (SQLite). Kept in lockstep with ../postgres/0013_analytics_company.sql,
-- which explains why.

CREATE TABLE analytics_hourly_company (
    company_id BLOB NOT NULL,
    bucket TEXT NOT NULL,
    communication_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    logs INTEGER NOT NULL DEFAULT 0,
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    timed INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    missed INTEGER NOT NULL DEFAULT 0,
    positive INTEGER NOT NULL DEFAULT 0,
    neutral INTEGER NOT NULL DEFAULT 0,
    negative INTEGER NOT NULL DEFAULT 0,
    scored INTEGER NOT NULL DEFAULT 0,
    sentiment_sum REAL NOT NULL DEFAULT 0,
    follow_ups INTEGER NOT NULL DEFAULT 0,
    follow_ups_completed INTEGER NOT NULL DEFAULT 0,
    follow_ups_overdue INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0,
    satisfaction_sum INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, bucket, communication_type, channel, direction)
);

DROP TRIGGER analytics_hourly_insert;
DROP TRIGGER analytics_hourly_delete;
DROP TRIGGER analytics_hourly_update_old;
DROP TRIGGER analytics_hourly_update_new;

CREATE TRIGGER analytics_hourly_insert AFTER INSERT ON crm_communication_logs
WHEN NOT NEW.is_deleted
BEGIN
    INSERT INTO analytics_hourly (company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        NEW.company_id,
        substr(NEW.start_time, 1, 13) || ':00:00.000000Z',
        coalesce(NEW.team_id, zeroblob(16)),
        coalesce(NEW.assigned_to_user_id, zeroblob(16)),
        NEW.communication_type,
        NEW.channel,
        NEW.direction,
        NEW.status,
        1,
        1 * coalesce(NEW.duration_seconds, 0),
        CASE WHEN NEW.duration_seconds IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN NEW.call_outcome = 'answered' THEN 1 ELSE 0 END,
        CASE WHEN NEW.communication_type = 'call' AND NEW.direction = 'inbound' AND NEW.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'positive' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'neutral' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'negative' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.sentiment_score, 0),
        CASE WHEN NEW.requires_follow_up THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'completed' THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'overdue' THEN 1 ELSE 0 END,
        CASE WHEN NEW.satisfaction_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, team_id, user_id, communication_type, channel, direction, status) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
    INSERT INTO analytics_hourly_company (company_id, bucket, communication_type, channel, direction,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        NEW.company_id,
        substr(NEW.start_time, 1, 13) || ':00:00.000000Z',
        NEW.communication_type,
        NEW.channel,
        NEW.direction,
        1,
        1 * coalesce(NEW.duration_seconds, 0),
        CASE WHEN NEW.duration_seconds IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN NEW.call_outcome = 'answered' THEN 1 ELSE 0 END,
        CASE WHEN NEW.communication_type = 'call' AND NEW.direction = 'inbound' AND NEW.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'positive' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'neutral' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'negative' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.sentiment_score, 0),
        CASE WHEN NEW.requires_follow_up THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'completed' THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'overdue' THEN 1 ELSE 0 END,
        CASE WHEN NEW.satisfaction_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, communication_type, channel, direction) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
END;

CREATE TRIGGER analytics_hourly_delete AFTER DELETE ON crm_communication_logs
WHEN NOT OLD.is_deleted
BEGIN
    INSERT INTO analytics_hourly (company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        OLD.company_id,
        substr(OLD.start_time, 1, 13) || ':00:00.000000Z',
        coalesce(OLD.team_id, zeroblob(16)),
        coalesce(OLD.assigned_to_user_id, zeroblob(16)),
        OLD.communication_type,
        OLD.channel,
        OLD.direction,
        OLD.status,
        -1,
        -1 * coalesce(OLD.duration_seconds, 0),
        CASE WHEN OLD.duration_seconds IS NOT NULL THEN -1 ELSE 0 END,
        CASE WHEN OLD.call_outcome = 'answered' THEN -1 ELSE 0 END,
        CASE WHEN OLD.communication_type = 'call' AND OLD.direction = 'inbound' AND OLD.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'positive' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'neutral' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'negative' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.sentiment_score, 0),
        CASE WHEN OLD.requires_follow_up THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'completed' THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'overdue' THEN -1 ELSE 0 END,
        CASE WHEN OLD.satisfaction_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, team_id, user_id, communication_type, channel, direction, status) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
    INSERT INTO analytics_hourly_company (company_id, bucket, communication_type, channel, direction,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        OLD.company_id,
        substr(OLD.start_time, 1, 13) || ':00:00.000000Z',
        OLD.communication_type,
        OLD.channel,
        OLD.direction,
        -1,
        -1 * coalesce(OLD.duration_seconds, 0),
        CASE WHEN OLD.duration_seconds IS NOT NULL THEN -1 ELSE 0 END,
        CASE WHEN OLD.call_outcome = 'answered' THEN -1 ELSE 0 END,
        CASE WHEN OLD.communication_type = 'call' AND OLD.direction = 'inbound' AND OLD.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'positive' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'neutral' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'negative' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.sentiment_score, 0),
        CASE WHEN OLD.requires_follow_up THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'completed' THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'overdue' THEN -1 ELSE 0 END,
        CASE WHEN OLD.satisfaction_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, communication_type, channel, direction) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
END;

CREATE TRIGGER analytics_hourly_update_old AFTER UPDATE ON crm_communication_logs
WHEN NOT OLD.is_deleted AND (
        OLD.is_deleted IS NOT NEW.is_deleted
        OR OLD.start_time IS NOT NEW.start_time
        OR OLD.team_id IS NOT NEW.team_id
        OR OLD.assigned_to_user_id IS NOT NEW.assigned_to_user_id
        OR OLD.communication_type IS NOT NEW.communication_type
        OR OLD.channel IS NOT NEW.channel
        OR OLD.direction IS NOT NEW.direction
        OR OLD.status IS NOT NEW.status
        OR OLD.duration_seconds IS NOT NEW.duration_seconds
        OR OLD.call_outcome IS NOT NEW.call_outcome
        OR OLD.sentiment IS NOT NEW.sentiment
        OR OLD.sentiment_score IS NOT NEW.sentiment_score
        OR OLD.requires_follow_up IS NOT NEW.requires_follow_up
        OR OLD.follow_up_status IS NOT NEW.follow_up_status
        OR OLD.satisfaction_score IS NOT NEW.satisfaction_score)
BEGIN
    INSERT INTO analytics_hourly (company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        OLD.company_id,
        substr(OLD.start_time, 1, 13) || ':00:00.000000Z',
        coalesce(OLD.team_id, zeroblob(16)),
        coalesce(OLD.assigned_to_user_id, zeroblob(16)),
        OLD.communication_type,
        OLD.channel,
        OLD.direction,
        OLD.status,
        -1,
        -1 * coalesce(OLD.duration_seconds, 0),
        CASE WHEN OLD.duration_seconds IS NOT NULL THEN -1 ELSE 0 END,
        CASE WHEN OLD.call_outcome = 'answered' THEN -1 ELSE 0 END,
        CASE WHEN OLD.communication_type = 'call' AND OLD.direction = 'inbound' AND OLD.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'positive' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'neutral' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'negative' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.sentiment_score, 0),
        CASE WHEN OLD.requires_follow_up THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'completed' THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'overdue' THEN -1 ELSE 0 END,
        CASE WHEN OLD.satisfaction_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, team_id, user_id, communication_type, channel, direction, status) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
    INSERT INTO analytics_hourly_company (company_id, bucket, communication_type, channel, direction,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        OLD.company_id,
        substr(OLD.start_time, 1, 13) || ':00:00.000000Z',
        OLD.communication_type,
        OLD.channel,
        OLD.direction,
        -1,
        -1 * coalesce(OLD.duration_seconds, 0),
        CASE WHEN OLD.duration_seconds IS NOT NULL THEN -1 ELSE 0 END,
        CASE WHEN OLD.call_outcome = 'answered' THEN -1 ELSE 0 END,
        CASE WHEN OLD.communication_type = 'call' AND OLD.direction = 'inbound' AND OLD.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'positive' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'neutral' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment = 'negative' THEN -1 ELSE 0 END,
        CASE WHEN OLD.sentiment_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.sentiment_score, 0),
        CASE WHEN OLD.requires_follow_up THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'completed' THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'overdue' THEN -1 ELSE 0 END,
        CASE WHEN OLD.satisfaction_score IS NOT NULL THEN -1 ELSE 0 END,
        -1 * coalesce(OLD.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, communication_type, channel, direction) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
END;

CREATE TRIGGER analytics_hourly_update_new AFTER UPDATE ON crm_communication_logs
WHEN NOT NEW.is_deleted AND (
        OLD.is_deleted IS NOT NEW.is_deleted
        OR OLD.start_time IS NOT NEW.start_time
        OR OLD.team_id IS NOT NEW.team_id
        OR OLD.assigned_to_user_id IS NOT NEW.assigned_to_user_id
        OR OLD.communication_type IS NOT NEW.communication_type
        OR OLD.channel IS NOT NEW.channel
        OR OLD.direction IS NOT NEW.direction
        OR OLD.status IS NOT NEW.status
        OR OLD.duration_seconds IS NOT NEW.duration_seconds
        OR OLD.call_outcome IS NOT NEW.call_outcome
        OR OLD.sentiment IS NOT NEW.sentiment
        OR OLD.sentiment_score IS NOT NEW.sentiment_score
        OR OLD.requires_follow_up IS NOT NEW.requires_follow_up
        OR OLD.follow_up_status IS NOT NEW.follow_up_status
        OR OLD.satisfaction_score IS NOT NEW.satisfaction_score)
BEGIN
    INSERT INTO analytics_hourly (company_id, bucket, team_id, user_id, communication_type, channel, direction, status,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        NEW.company_id,
        substr(NEW.start_time, 1, 13) || ':00:00.000000Z',
        coalesce(NEW.team_id, zeroblob(16)),
        coalesce(NEW.assigned_to_user_id, zeroblob(16)),
        NEW.communication_type,
        NEW.channel,
        NEW.direction,
        NEW.status,
        1,
        1 * coalesce(NEW.duration_seconds, 0),
        CASE WHEN NEW.duration_seconds IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN NEW.call_outcome = 'answered' THEN 1 ELSE 0 END,
        CASE WHEN NEW.communication_type = 'call' AND NEW.direction = 'inbound' AND NEW.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'positive' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'neutral' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'negative' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.sentiment_score, 0),
        CASE WHEN NEW.requires_follow_up THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'completed' THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'overdue' THEN 1 ELSE 0 END,
        CASE WHEN NEW.satisfaction_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, team_id, user_id, communication_type, channel, direction, status) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
    INSERT INTO analytics_hourly_company (company_id, bucket, communication_type, channel, direction,
        logs, duration_seconds, timed, answered, missed, positive, neutral, negative, scored, sentiment_sum, follow_ups, follow_ups_completed, follow_ups_overdue, rated, satisfaction_sum)
    VALUES (
        NEW.company_id,
        substr(NEW.start_time, 1, 13) || ':00:00.000000Z',
        NEW.communication_type,
        NEW.channel,
        NEW.direction,
        1,
        1 * coalesce(NEW.duration_seconds, 0),
        CASE WHEN NEW.duration_seconds IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN NEW.call_outcome = 'answered' THEN 1 ELSE 0 END,
        CASE WHEN NEW.communication_type = 'call' AND NEW.direction = 'inbound' AND NEW.call_outcome IN ('no_answer', 'busy', 'failed', 'voicemail', 'canceled') THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'positive' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'neutral' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment = 'negative' THEN 1 ELSE 0 END,
        CASE WHEN NEW.sentiment_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.sentiment_score, 0),
        CASE WHEN NEW.requires_follow_up THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'completed' THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'overdue' THEN 1 ELSE 0 END,
        CASE WHEN NEW.satisfaction_score IS NOT NULL THEN 1 ELSE 0 END,
        1 * coalesce(NEW.satisfaction_score, 0))
    ON CONFLICT (company_id, bucket, communication_type, channel, direction) DO UPDATE SET
        logs = logs + excluded.logs,
        duration_seconds = duration_seconds + excluded.duration_seconds,
        timed = timed + excluded.timed,
        answered = answered + excluded.answered,
        missed = missed + excluded.missed,
        positive = positive + excluded.positive,
        neutral = neutral + excluded.neutral,
        negative = negative + excluded.negative,
        scored = scored + excluded.scored,
        sentiment_sum = sentiment_sum + excluded.sentiment_sum,
        follow_ups = follow_ups + excluded.follow_ups,
        follow_ups_completed = follow_ups_completed + excluded.follow_ups_completed,
        follow_ups_overdue = follow_ups_overdue + excluded.follow_ups_overdue,
        rated = rated + excluded.rated,
        satisfaction_sum = satisfaction_sum + excluded.satisfaction_sum;
END;

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
