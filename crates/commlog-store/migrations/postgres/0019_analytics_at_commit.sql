-- Analytics triggers fire at commit (PostgreSQL). The SQLite side of this migration changes
-- nothing: SQLite has one writer at a time, so there is no lock to shorten.
--
-- Every create upserts the same few rollup rows as every other create of that hour (the
-- company's hour, the assignee's open items). A row trigger that runs at the INSERT holds those
-- rows locked for the rest of the transaction — participants, links, the audit chain, the outbox,
-- the commit's flush — and concurrent creates queue behind it. As constraint triggers deferred
-- to commit, the same functions run last, so the rows are held only for the commit itself.
-- Figures are unchanged: each event still carries the row as it was when the change was made.

DROP TRIGGER analytics_hourly_insert ON crm_communication_logs;
DROP TRIGGER analytics_hourly_delete ON crm_communication_logs;
DROP TRIGGER analytics_hourly_update ON crm_communication_logs;
DROP TRIGGER analytics_open_items_insert ON crm_communication_logs;
DROP TRIGGER analytics_open_items_delete ON crm_communication_logs;
DROP TRIGGER analytics_open_items_update ON crm_communication_logs;

CREATE CONSTRAINT TRIGGER analytics_hourly_insert AFTER INSERT ON crm_communication_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION analytics_hourly_track();
CREATE CONSTRAINT TRIGGER analytics_hourly_delete AFTER DELETE ON crm_communication_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION analytics_hourly_track();
CREATE CONSTRAINT TRIGGER analytics_hourly_update AFTER UPDATE ON crm_communication_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (
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

CREATE CONSTRAINT TRIGGER analytics_open_items_insert AFTER INSERT ON crm_communication_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION analytics_open_items_track();
CREATE CONSTRAINT TRIGGER analytics_open_items_delete AFTER DELETE ON crm_communication_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION analytics_open_items_track();
CREATE CONSTRAINT TRIGGER analytics_open_items_update AFTER UPDATE ON crm_communication_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (
        OLD.is_deleted IS DISTINCT FROM NEW.is_deleted
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.team_id IS DISTINCT FROM NEW.team_id
        OR OLD.assigned_to_user_id IS DISTINCT FROM NEW.assigned_to_user_id
        OR OLD.requires_follow_up IS DISTINCT FROM NEW.requires_follow_up
        OR OLD.follow_up_status IS DISTINCT FROM NEW.follow_up_status)
    EXECUTE FUNCTION analytics_open_items_track();
