//! `GET /api/communication-logs/`: filters, full-text search, ordering, OFFSET pages for the
//! first screens and keyset cursors for deep ones, and a count that stops at a cap unless an
//! exact one is asked for (an exact count of a large company would cost a full scan per page).

use super::logs::push_visible;
use super::{Db, dialect, field_crypto, log_links, rows};
use crate::store::LogPage;
use crate::{DbTime, Engine, Scope, StoreError, StoreResult};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use commlog_domain::list::{COUNT_CAP, CursorPosition, LogListParams, LogOrdering};
use sqlx::QueryBuilder;
use uuid::Uuid;

impl Engine<Db> {
    pub(crate) async fn list_logs(&self, scope: &Scope, p: &LogListParams) -> StoreResult<LogPage> {
        p.validate()?;
        let ordering = p.ordering();
        let cursor = p
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, ordering))
            .transpose()?;
        let size = i64::from(p.page_size());
        let col = ordering.column();
        let (dir, cmp) = if ordering.descending() {
            ("DESC", "<")
        } else {
            ("ASC", ">")
        };

        let mut conn = self.read.acquire().await?;
        let tokens = match p.search.as_deref() {
            Some(q) => field_crypto::search_tokens(&mut conn, scope.company_id(), q).await?,
            None => None,
        };
        // The page is chosen over ids alone (an index-only walk, even past a deep OFFSET), and
        // only its rows are then read whole: skipping 50,000 rows costs index entries, not
        // 50,000 heap fetches.
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {} FROM crm_communication_logs l JOIN (SELECT l.id FROM crm_communication_logs l WHERE ",
            rows::LOG_COLUMNS
        ));
        push_filters(&mut qb, scope, p, tokens.as_deref());
        if let Some(c) = &cursor {
            qb.push(format!(" AND (l.{col}, l.id) {cmp} ("));
            qb.push_bind(DbTime::from(c.t))
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
        qb.push(format!(" ORDER BY l.{col} {dir}, l.id {dir} LIMIT "))
            .push_bind(size + 1);
        if cursor.is_none() {
            qb.push(" OFFSET ")
                .push_bind((i64::from(p.page()) - 1) * size);
        }
        qb.push(") page ON l.company_id = ")
            .push_bind(scope.company_id())
            .push(format!(
                " AND l.id = page.id ORDER BY l.{col} {dir}, l.id {dir}"
            ));
        // Planned with the actual values every time: a cached generic plan cannot know how rare
        // a search term or how narrow a filter is, and picks the wrong index for one or the other.
        let fetched = qb.build().persistent(false).fetch_all(&mut *conn).await?;
        let has_more = i64::try_from(fetched.len()).unwrap_or(i64::MAX) > size;
        let mut results = fetched
            .iter()
            .take(usize::try_from(size).unwrap_or(25))
            .map(rows::log)
            .collect::<StoreResult<Vec<_>>>()?;
        log_links::load(&mut conn, scope.company_id(), &mut results).await?;

        let tells_total = cursor.is_none() && !has_more && (!results.is_empty() || p.page() == 1);
        let (count, count_is_exact) = match tells_total {
            // The last page of OFFSET paging already tells the total (a page past the end does not).
            true => (
                (i64::from(p.page()) - 1) * size + i64::try_from(results.len()).unwrap_or(0),
                true,
            ),
            false => self.count_logs(&mut conn, scope, p, tokens.as_deref()).await?,
        };

        let next_cursor = match results.last() {
            Some(last) if has_more => {
                Some(encode_cursor(last.id, sort_value(last, ordering), ordering))
            }
            _ => None,
        };
        Ok(LogPage {
            results,
            count,
            count_is_exact,
            next_cursor,
            has_more,
        })
    }
}

impl Engine<Db> {
    /// Counts matching logs, stopping at the cap unless an exact count was asked for.
    async fn count_logs(
        &self,
        conn: &mut super::log_links::Conn,
        scope: &Scope,
        p: &LogListParams,
        tokens: Option<&[String]>,
    ) -> StoreResult<(i64, bool)> {
        let exact = p.exact_count();
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT count(*) FROM (SELECT 1 FROM crm_communication_logs l WHERE ",
        );
        push_filters(&mut qb, scope, p, tokens);
        if !exact {
            qb.push(" LIMIT ").push_bind(COUNT_CAP + 1);
        }
        qb.push(") AS matching");
        let counted: i64 = qb
            .build_query_scalar()
            .persistent(false)
            .fetch_one(&mut *conn)
            .await?;
        Ok(if exact || counted <= COUNT_CAP {
            (counted, true)
        } else {
            (COUNT_CAP, false)
        })
    }
}

fn sort_value(l: &commlog_domain::CommunicationLog, o: LogOrdering) -> time::OffsetDateTime {
    match o {
        LogOrdering::StartTimeAsc | LogOrdering::StartTimeDesc => l.start_time,
        LogOrdering::CreatedAtAsc | LogOrdering::CreatedAtDesc => l.created_at,
    }
}

fn ordering_name(o: LogOrdering) -> &'static str {
    match o {
        LogOrdering::StartTimeDesc => "-start_time",
        LogOrdering::StartTimeAsc => "start_time",
        LogOrdering::CreatedAtDesc => "-created_at",
        LogOrdering::CreatedAtAsc => "created_at",
    }
}

fn encode_cursor(id: Uuid, t: time::OffsetDateTime, o: LogOrdering) -> String {
    let pos = CursorPosition {
        t,
        id,
        o: ordering_name(o).into(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&pos).unwrap_or_default())
}

fn decode_cursor(text: &str, o: LogOrdering) -> StoreResult<CursorPosition> {
    let bad = || {
        StoreError::invalid(
            "cursor",
            "invalid_cursor",
            "cursor is not one this server issued",
        )
    };
    if text.len() > 512 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let pos: CursorPosition = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if pos.o != ordering_name(o) {
        return Err(StoreError::invalid(
            "cursor",
            "ordering_mismatch",
            "the cursor was issued for another ordering",
        ));
    }
    Ok(pos)
}

/// The WHERE clause shared by the page and its count. `tokens`: the blind-index tokens of the
/// search, when encryption at rest is on (the engine's full-text index holds only ciphertext).
fn push_filters(qb: &mut QueryBuilder<Db>, scope: &Scope, p: &LogListParams, tokens: Option<&[String]>) {
    push_visible(qb, &scope.actor);
    qb.push(" AND ").push(dialect::LIVE);
    qb.push(match p.archived.as_deref() {
        Some("include") => "",
        Some("only") => " AND l.archived_at IS NOT NULL",
        _ => " AND l.archived_at IS NULL",
    });
    if let Some(v) = p.communication_type {
        qb.push(" AND l.communication_type = ")
            .push_bind(v.as_str());
    }
    let types = p.types().unwrap_or_default();
    if !types.is_empty() {
        qb.push(" AND l.communication_type IN (");
        let mut list = qb.separated(", ");
        for t in types {
            list.push_bind(t.as_str());
        }
        qb.push(")");
    }
    if let Some(v) = &p.channel {
        qb.push(" AND l.channel = ").push_bind(v.clone());
    }
    if let Some(v) = p.direction {
        qb.push(" AND l.direction = ").push_bind(v.as_str());
    }
    if let Some(v) = p.status {
        qb.push(" AND l.status = ").push_bind(v.as_str());
    }
    if let Some(v) = p.priority {
        qb.push(" AND l.priority = ").push_bind(v.as_str());
    }
    if let Some(v) = p.sentiment {
        qb.push(" AND l.sentiment = ").push_bind(v.as_str());
    }
    for (col, value) in [
        ("customer_id", p.customer_id),
        ("contact_id", p.contact_id),
        ("assigned_to_user_id", p.assigned_to_user_id),
        ("team_id", p.team_id),
        ("thread_id", p.thread_id),
    ] {
        if let Some(v) = value {
            qb.push(format!(" AND l.{col} = ")).push_bind(v);
        }
    }
    if let Some(v) = p.requires_follow_up {
        qb.push(" AND l.requires_follow_up = ").push_bind(v);
    }
    if let Some(v) = p.follow_up_status {
        qb.push(" AND l.follow_up_status = ").push_bind(v.as_str());
    }
    if let Some(v) = p.is_internal {
        qb.push(" AND l.is_internal = ").push_bind(v);
    }
    match p.unmatched {
        Some(true) => qb.push(" AND l.customer_id IS NULL AND l.contact_id IS NULL"),
        Some(false) => qb.push(" AND (l.customer_id IS NOT NULL OR l.contact_id IS NOT NULL)"),
        None => qb,
    };
    if let Some(v) = p.call_outcome {
        qb.push(" AND l.call_outcome = ").push_bind(v.as_str());
    }
    if let Some(t) = p.start_time_after {
        qb.push(" AND l.start_time >= ").push_bind(DbTime::from(t));
    }
    if let Some(t) = p.start_time_before {
        qb.push(" AND l.start_time < ").push_bind(DbTime::from(t));
    }
    if let Some(c) = p.category.as_deref() {
        qb.push(
            " AND EXISTS (SELECT 1 FROM crm_communication_log_categories lc JOIN crm_communication_categories c \
             ON c.company_id = lc.company_id AND c.id = lc.category_id WHERE lc.company_id = l.company_id \
             AND lc.communication_log_id = l.id AND ",
        );
        match Uuid::parse_str(c) {
            Ok(id) => qb.push("c.id = ").push_bind(id),
            Err(_) => qb.push("c.category_code = ").push_bind(c.to_owned()),
        };
        qb.push(")");
    }
    if let Some(t) = p.tag.as_deref() {
        qb.push(
            " AND EXISTS (SELECT 1 FROM crm_communication_log_tags lt JOIN tags t ON t.company_id = lt.company_id AND t.id = lt.tag_id \
             WHERE lt.company_id = l.company_id AND lt.communication_log_id = l.id AND t.name = ",
        );
        qb.push_bind(t.trim().to_owned()).push(")");
    }
    if let Some(s) = p.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match tokens {
            Some([]) => {
                qb.push(" AND 1 = 0");
            }
            Some(tokens) => {
                for t in tokens {
                    qb.push(" AND EXISTS (SELECT 1 FROM log_search_tokens st WHERE st.company_id = l.company_id AND st.communication_log_id = l.id AND st.token = ")
                        .push_bind(t.clone())
                        .push(")");
                }
            }
            // NUL separates words like any punctuation; PostgreSQL would refuse it as text.
            None => dialect::push_fulltext(qb, &s.replace('\0', " ")),
        }
    }
}
