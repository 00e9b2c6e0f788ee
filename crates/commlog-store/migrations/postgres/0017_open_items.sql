-- Open items now (PostgreSQL). Kept in lockstep with ../sqlite/0017_open_items.sql.
--
-- The live counters (open, awaiting response, escalated, overdue follow-ups) and each agent's
-- active items are about now, not a period: counting them from the logs reads every open log of
-- the company, millions in a large one. This table keeps those four counts per company, team and
-- assignee, changed by triggers in the transaction that changes a log, like the hourly rollups.
-- Only logs that count touch it: creating a closed log or editing a resolved one costs nothing.
-- `commlog analytics verify` compares it with the logs too.

CREATE TABLE analytics_open_items (
    company_id UUID NOT NULL,
    -- The nil UUID stands for "none": primary-key columns cannot be NULL.
    team_id UUID NOT NULL,
    user_id UUID NOT NULL,
    open BIGINT NOT NULL DEFAULT 0,
    awaiting_response BIGINT NOT NULL DEFAULT 0,
    escalated BIGINT NOT NULL DEFAULT 0,
    overdue_follow_ups BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, team_id, user_id)
);

-- Adds (sign 1) or removes (sign -1) one log's share, when it has one.
CREATE FUNCTION analytics_open_items_apply(r crm_communication_logs, sign BIGINT) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    is_open BOOLEAN := r.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated');
    is_overdue BOOLEAN := coalesce(r.requires_follow_up AND r.follow_up_status = 'overdue', false);
BEGIN
    IF r.is_deleted OR NOT (is_open OR is_overdue) THEN
        RETURN;
    END IF;
    INSERT INTO analytics_open_items AS a (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
    VALUES (
        r.company_id,
        coalesce(r.team_id, '00000000-0000-0000-0000-000000000000'),
        coalesce(r.assigned_to_user_id, '00000000-0000-0000-0000-000000000000'),
        CASE WHEN is_open THEN sign ELSE 0 END,
        CASE WHEN r.status = 'awaiting_response' THEN sign ELSE 0 END,
        CASE WHEN r.status = 'escalated' THEN sign ELSE 0 END,
        CASE WHEN is_overdue THEN sign ELSE 0 END)
    ON CONFLICT (company_id, team_id, user_id) DO UPDATE SET
        open = a.open + excluded.open,
        awaiting_response = a.awaiting_response + excluded.awaiting_response,
        escalated = a.escalated + excluded.escalated,
        overdue_follow_ups = a.overdue_follow_ups + excluded.overdue_follow_ups;
END $$;

CREATE FUNCTION analytics_open_items_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM analytics_open_items_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM analytics_open_items_apply(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER analytics_open_items_insert AFTER INSERT ON crm_communication_logs
    FOR EACH ROW EXECUTE FUNCTION analytics_open_items_track();
CREATE TRIGGER analytics_open_items_delete AFTER DELETE ON crm_communication_logs
    FOR EACH ROW EXECUTE FUNCTION analytics_open_items_track();
CREATE TRIGGER analytics_open_items_update AFTER UPDATE ON crm_communication_logs
    FOR EACH ROW WHEN (
        OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.team_id IS DISTINCT FROM NEW.team_id
        OR OLD.assigned_to_user_id IS DISTINCT FROM NEW.assigned_to_user_id
        OR OLD.requires_follow_up IS DISTINCT FROM NEW.requires_follow_up
        OR OLD.follow_up_status IS DISTINCT FROM NEW.follow_up_status)
    EXECUTE FUNCTION analytics_open_items_track();

ALTER TABLE analytics_open_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics_open_items USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());

-- Logs written before this migration count too.
INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
SELECT company_id,
       coalesce(team_id, '00000000-0000-0000-0000-000000000000'),
       coalesce(assigned_to_user_id, '00000000-0000-0000-0000-000000000000'),
       count(*) FILTER (WHERE status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')),
       count(*) FILTER (WHERE status = 'awaiting_response'),
       count(*) FILTER (WHERE status = 'escalated'),
       count(*) FILTER (WHERE requires_follow_up AND follow_up_status = 'overdue')
FROM crm_communication_logs
WHERE NOT is_deleted
  AND (status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')
       OR (requires_follow_up AND follow_up_status = 'overdue'))
GROUP BY 1, 2, 3;
