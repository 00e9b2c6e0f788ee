-- Tenant policies the planner can use (PostgreSQL).
--
-- 0003's policies compared every row's company as text with the setting, row by row. Here the
-- tables that are only ever read for one company compare `company_id` with a stable UUID, which
-- PostgreSQL folds into the query's own `company_id = …` condition and checks once per query.
-- Only the tables that sign-in lookup, the audit sealer and company creation read across
-- companies keep the '*' form of 0003.
--
-- Under a policy PostgreSQL will not use an index for an operator that is not leakproof, and
-- full-text `@@` is not: search goes through `commlog_search_logs`, which runs as the owner
-- (owners are not subject to these policies without FORCE) and applies the session's company
-- itself. It returns at most `max_rows` of the newest matches.

CREATE FUNCTION commlog_current_company() RETURNS UUID
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN current_setting('commlog.company_id', true)
                            ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                      THEN current_setting('commlog.company_id', true)::uuid END $$;

DROP POLICY tenant_isolation ON teams;
CREATE POLICY tenant_isolation ON teams USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE teams NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON customers;
CREATE POLICY tenant_isolation ON customers USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON contacts;
CREATE POLICY tenant_isolation ON contacts USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE contacts NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON contact_emails;
CREATE POLICY tenant_isolation ON contact_emails USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE contact_emails NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON contact_phones;
CREATE POLICY tenant_isolation ON contact_phones USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE contact_phones NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_categories;
CREATE POLICY tenant_isolation ON crm_communication_categories USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_categories NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_channel_configurations;
CREATE POLICY tenant_isolation ON crm_channel_configurations USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_channel_configurations NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_logs;
CREATE POLICY tenant_isolation ON crm_communication_logs USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_logs NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_participants;
CREATE POLICY tenant_isolation ON crm_communication_participants USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_participants NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_attachments;
CREATE POLICY tenant_isolation ON crm_communication_attachments USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_attachments NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_log_categories;
CREATE POLICY tenant_isolation ON crm_communication_log_categories USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_log_categories NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON tags;
CREATE POLICY tenant_isolation ON tags USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE tags NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_log_tags;
CREATE POLICY tenant_isolation ON crm_communication_log_tags USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_log_tags NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON crm_communication_watchers;
CREATE POLICY tenant_isolation ON crm_communication_watchers USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE crm_communication_watchers NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON idempotency_keys;
CREATE POLICY tenant_isolation ON idempotency_keys USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON outbox;
CREATE POLICY tenant_isolation ON outbox USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE outbox NO FORCE ROW LEVEL SECURITY;

DROP POLICY tenant_isolation ON sessions;
CREATE POLICY tenant_isolation ON sessions USING (company_id = commlog_current_company()) WITH CHECK (company_id = commlog_current_company());
ALTER TABLE sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE companies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE api_tokens NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads NO FORCE ROW LEVEL SECURITY;

CREATE FUNCTION commlog_search_logs(query TEXT, max_rows INTEGER) RETURNS TABLE (id UUID)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT l.id FROM crm_communication_logs l
          WHERE l.company_id = commlog_current_company() AND NOT l.is_deleted
            AND l.search_vector @@ websearch_to_tsquery('english', query)
          ORDER BY l.start_time DESC LIMIT max_rows $$;
