-- Open items now (SQLite). Kept in lockstep with ../postgres/0017_open_items.sql, which explains why.

CREATE TABLE analytics_open_items (
    company_id BLOB NOT NULL,
    team_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    open INTEGER NOT NULL DEFAULT 0,
    awaiting_response INTEGER NOT NULL DEFAULT 0,
    escalated INTEGER NOT NULL DEFAULT 0,
    overdue_follow_ups INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, team_id, user_id)
);

CREATE TRIGGER analytics_open_items_insert AFTER INSERT ON crm_communication_logs
WHEN NOT NEW.is_deleted AND (NEW.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')
        OR (NEW.requires_follow_up AND NEW.follow_up_status = 'overdue'))
BEGIN
    INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
    VALUES (
        NEW.company_id,
        coalesce(NEW.team_id, zeroblob(16)),
        coalesce(NEW.assigned_to_user_id, zeroblob(16)),
        CASE WHEN NEW.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated') THEN 1 ELSE 0 END,
        CASE WHEN NEW.status = 'awaiting_response' THEN 1 ELSE 0 END,
        CASE WHEN NEW.status = 'escalated' THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'overdue' THEN 1 ELSE 0 END)
    ON CONFLICT (company_id, team_id, user_id) DO UPDATE SET
        open = open + excluded.open,
        awaiting_response = awaiting_response + excluded.awaiting_response,
        escalated = escalated + excluded.escalated,
        overdue_follow_ups = overdue_follow_ups + excluded.overdue_follow_ups;
END;

CREATE TRIGGER analytics_open_items_delete AFTER DELETE ON crm_communication_logs
WHEN NOT OLD.is_deleted AND (OLD.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')
        OR (OLD.requires_follow_up AND OLD.follow_up_status = 'overdue'))
BEGIN
    INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
    VALUES (
        OLD.company_id,
        coalesce(OLD.team_id, zeroblob(16)),
        coalesce(OLD.assigned_to_user_id, zeroblob(16)),
        CASE WHEN OLD.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated') THEN -1 ELSE 0 END,
        CASE WHEN OLD.status = 'awaiting_response' THEN -1 ELSE 0 END,
        CASE WHEN OLD.status = 'escalated' THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'overdue' THEN -1 ELSE 0 END)
    ON CONFLICT (company_id, team_id, user_id) DO UPDATE SET
        open = open + excluded.open,
        awaiting_response = awaiting_response + excluded.awaiting_response,
        escalated = escalated + excluded.escalated,
        overdue_follow_ups = overdue_follow_ups + excluded.overdue_follow_ups;
END;

-- An update moves a log's share: out of its old row (when it counted), into its new one.
CREATE TRIGGER analytics_open_items_update_old AFTER UPDATE ON crm_communication_logs
WHEN NOT OLD.is_deleted AND (OLD.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')
        OR (OLD.requires_follow_up AND OLD.follow_up_status = 'overdue')) AND (
        OLD.is_deleted IS NOT NEW.is_deleted
        OR OLD.status IS NOT NEW.status
        OR OLD.team_id IS NOT NEW.team_id
        OR OLD.assigned_to_user_id IS NOT NEW.assigned_to_user_id
        OR OLD.requires_follow_up IS NOT NEW.requires_follow_up
        OR OLD.follow_up_status IS NOT NEW.follow_up_status)
BEGIN
    INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
    VALUES (
        OLD.company_id,
        coalesce(OLD.team_id, zeroblob(16)),
        coalesce(OLD.assigned_to_user_id, zeroblob(16)),
        CASE WHEN OLD.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated') THEN -1 ELSE 0 END,
        CASE WHEN OLD.status = 'awaiting_response' THEN -1 ELSE 0 END,
        CASE WHEN OLD.status = 'escalated' THEN -1 ELSE 0 END,
        CASE WHEN OLD.requires_follow_up AND OLD.follow_up_status = 'overdue' THEN -1 ELSE 0 END)
    ON CONFLICT (company_id, team_id, user_id) DO UPDATE SET
        open = open + excluded.open,
        awaiting_response = awaiting_response + excluded.awaiting_response,
        escalated = escalated + excluded.escalated,
        overdue_follow_ups = overdue_follow_ups + excluded.overdue_follow_ups;
END;

CREATE TRIGGER analytics_open_items_update_new AFTER UPDATE ON crm_communication_logs
WHEN NOT NEW.is_deleted AND (NEW.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')
        OR (NEW.requires_follow_up AND NEW.follow_up_status = 'overdue')) AND (
        OLD.is_deleted IS NOT NEW.is_deleted
        OR OLD.status IS NOT NEW.status
        OR OLD.team_id IS NOT NEW.team_id
        OR OLD.assigned_to_user_id IS NOT NEW.assigned_to_user_id
        OR OLD.requires_follow_up IS NOT NEW.requires_follow_up
        OR OLD.follow_up_status IS NOT NEW.follow_up_status)
BEGIN
    INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
    VALUES (
        NEW.company_id,
        coalesce(NEW.team_id, zeroblob(16)),
        coalesce(NEW.assigned_to_user_id, zeroblob(16)),
        CASE WHEN NEW.status IN ('logged', 'in_progress', 'awaiting_response', 'escalated') THEN 1 ELSE 0 END,
        CASE WHEN NEW.status = 'awaiting_response' THEN 1 ELSE 0 END,
        CASE WHEN NEW.status = 'escalated' THEN 1 ELSE 0 END,
        CASE WHEN NEW.requires_follow_up AND NEW.follow_up_status = 'overdue' THEN 1 ELSE 0 END)
    ON CONFLICT (company_id, team_id, user_id) DO UPDATE SET
        open = open + excluded.open,
        awaiting_response = awaiting_response + excluded.awaiting_response,
        escalated = escalated + excluded.escalated,
        overdue_follow_ups = overdue_follow_ups + excluded.overdue_follow_ups;
END;

-- Logs written before this migration count too.
INSERT INTO analytics_open_items (company_id, team_id, user_id, open, awaiting_response, escalated, overdue_follow_ups)
SELECT company_id,
       coalesce(team_id, zeroblob(16)),
       coalesce(assigned_to_user_id, zeroblob(16)),
       sum(CASE WHEN status IN ('logged', 'in_progress', 'awaiting_response', 'escalated') THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'awaiting_response' THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'escalated' THEN 1 ELSE 0 END),
       sum(CASE WHEN requires_follow_up AND follow_up_status = 'overdue' THEN 1 ELSE 0 END)
FROM crm_communication_logs
WHERE NOT is_deleted
  AND (status IN ('logged', 'in_progress', 'awaiting_response', 'escalated')
       OR (requires_follow_up AND follow_up_status = 'overdue'))
GROUP BY 1, 2, 3;
