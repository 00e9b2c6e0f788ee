-- Row-level security (PostgreSQL): a second wall behind the application's company filters.
-- Every tenant row is visible only when `commlog.company_id` (set by Commlog on each connection
-- it uses, for the company the request acts for) names its company, or is '*' for system work.
-- Unset means nothing is visible. FORCE makes the table owner subject too; only superusers
-- bypass it, so production should run Commlog as an ordinary role.

CREATE FUNCTION commlog_tenant_visible(row_company UUID) RETURNS BOOLEAN
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT current_setting('commlog.company_id', true) IN ('*', row_company::text) $$;

ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON companies USING (commlog_tenant_visible(id)) WITH CHECK (commlog_tenant_visible(id));

ALTER TABLE teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE teams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON teams USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contacts USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE contact_emails ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_emails FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_emails USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE contact_phones ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_phones FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_phones USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_categories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_categories USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_channel_configurations ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_channel_configurations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_channel_configurations USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_logs USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_participants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_participants USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_attachments USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_log_categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_log_categories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_log_categories USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tags USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_log_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_log_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_log_tags USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE crm_communication_watchers ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_communication_watchers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_communication_watchers USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON outbox USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_chain_heads USING (commlog_tenant_visible(company_id)) WITH CHECK (commlog_tenant_visible(company_id));
