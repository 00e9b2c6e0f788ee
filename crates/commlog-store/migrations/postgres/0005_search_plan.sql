-- Plan each search with its actual words (PostgreSQL). A SQL-language function plans its query
-- once with the words unknown, which walks the time index for a rare word (70 ms on 400,000
-- logs) and scans every match of a common one before sorting (1.3 s). EXECUTE plans with the
-- values: 1.5 ms and 6 ms on the same data.

CREATE OR REPLACE FUNCTION commlog_search_logs(query TEXT, max_rows INTEGER) RETURNS TABLE (id UUID)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
    AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT l.id FROM crm_communication_logs l
          WHERE l.company_id = commlog_current_company() AND NOT l.is_deleted
            AND l.search_vector @@ websearch_to_tsquery(''english'', $1)
          ORDER BY l.start_time DESC LIMIT $2'
        USING query, max_rows;
END
$$;
