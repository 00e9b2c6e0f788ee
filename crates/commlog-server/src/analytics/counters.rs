//! The live counters (open, awaiting response, escalated, overdue follow-ups) of a scope. The
//! home page of every user, the counters endpoint and every open WebSocket ask for them; they
//! are read from the open-items table the log triggers keep (migration 0017) and made once per
//! change of the company's data (see [`super::cache`]).

use super::cache::Memo;
use crate::analytics::scope_of;
use crate::error::ApiResult;
use crate::state::AppState;
use commlog_domain::Actor;
use commlog_domain::analytics::Counters;

/// Every scope's counters weigh the same; 100,000 scopes are a few megabytes.
static COUNTERS: Memo<Counters> = Memo::new(|_| 1, 100_000);

/// The actor's counters, as of the company's latest change.
pub async fn current(app: &AppState, actor: &Actor) -> ApiResult<Counters> {
    let scope = scope_of(actor);
    COUNTERS
        .get_or_make(
            &app.store,
            actor.company_id,
            format!("{scope:?}"),
            || async {
                Ok(app
                    .store
                    .analytics_counters(actor.company_id, scope)
                    .await?)
            },
        )
        .await
}
