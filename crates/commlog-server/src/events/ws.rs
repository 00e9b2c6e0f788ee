//! `GET /ws`: a signed-in user's live feed of their company's events, limited to the logs they
//! may see, with the analytics counters of their scope pushed when they change.
//!
//! Sign-in: `Authorization: Bearer` (API clients), or `?ticket=` from
//! `POST /api/auth/ws-ticket` for browsers, which cannot set headers on a WebSocket: a ticket
//! lasts 30 seconds and opens one connection, so no long-lived token ever sits in a URL.
//!
//! Messages (JSON text):
//! - `{"type": "hello", "seq": N}`: the company's latest sequence number on connecting;
//! - `{"type": "event", "seq", "event", "data", "created_at"}`: one event (`event` is e.g.
//!   `communication.created`; `data` the log's routing fields and the change);
//! - `{"type": "counters", "data": {"open", "awaiting_response", "escalated", "overdue_follow_ups"}}`;
//! - `{"type": "heartbeat", "seq"}` every 20 seconds.
//!
//! Reconnecting with `?since_seq=` (the last `seq` received) first replays what was missed,
//! in order; sequence numbers of events the user may not see are skipped, never re-sent.

use crate::auth::{Auth, Claims};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use commlog_domain::analytics::Counters;
use commlog_domain::{Actor, Permission, Visibility};
use commlog_store::PublishedEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const HEARTBEAT: Duration = Duration::from_secs(20);
/// Counters are recomputed at most this often while events arrive.
const COUNTERS_DEBOUNCE: Duration = Duration::from_millis(500);
/// How long a ticket opens a connection.
pub const TICKET_TTL_SECONDS: i64 = 30;
/// Events replayed per read.
const REPLAY_BATCH: i64 = 500;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// A ticket from `POST /api/auth/ws-ticket` (instead of an Authorization header).
    pub ticket: Option<String>,
    /// The last `seq` received before a disconnection: what came after is replayed first.
    #[param(minimum = 0)]
    pub since_seq: Option<i64>,
}

/// Tickets already used, kept until they expire (one connection per ticket).
#[derive(Default)]
pub struct UsedTickets(Mutex<HashMap<Uuid, i64>>);

impl UsedTickets {
    /// Records a ticket's use; `false` when it was used before.
    fn first_use(&self, jti: Uuid, exp: i64) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut used = self.0.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, e| *e >= now);
        used.insert(jti, exp).is_none()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SocketTicket {
    /// Pass as `GET /ws?ticket=…` within `expires_in` seconds; it opens one connection.
    pub ticket: String,
    pub expires_in: i64,
}

/// A short-lived, single-use ticket to open the event WebSocket from a browser.
#[utoipa::path(post, path = "/api/auth/ws-ticket", tag = "events",
    responses((status = 200, body = SocketTicket), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_ws_ticket(
    State(app): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<SocketTicket>> {
    auth.require(Permission::ReadLogs)?;
    let sid = auth.session_id.ok_or_else(|| {
        ApiError::forbidden("API tokens connect with their Authorization header instead")
    })?;
    let user = app
        .store
        .get_user(&auth.scope, auth.actor().user_id)
        .await?;
    let (ticket, expires_in) = app.jwt.issue(&user, "ws", Some(sid), Uuid::now_v7())?;
    Ok(Json(SocketTicket { ticket, expires_in }))
}

/// The caller a ticket stands for, once.
async fn ticket_actor(app: &AppState, ticket: &str) -> ApiResult<Actor> {
    let claims: Claims = app.jwt.verify(ticket, "ws")?;
    if !app.events.tickets.first_use(claims.jti, claims.exp) {
        return Err(ApiError::unauthorized("the ticket was used already"));
    }
    Ok(crate::auth::session_actor(app, &claims).await?.0)
}

/// The live event feed (WebSocket).
#[utoipa::path(get, path = "/ws", tag = "events", params(SocketQuery),
    responses((status = 101, description = "switching to the WebSocket protocol"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events_socket(
    State(app): State<AppState>,
    auth: Result<Auth, ApiError>,
    ApiQuery(q): ApiQuery<SocketQuery>,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    let actor = match (&q.ticket, auth) {
        (Some(ticket), _) => ticket_actor(&app, ticket).await?,
        (None, auth) => {
            let auth = auth?;
            auth.require(Permission::ReadLogs)?;
            auth.actor().clone()
        }
    };
    if !actor.can(Permission::ReadLogs) {
        return Err(ApiError::forbidden("reading logs is not allowed"));
    }
    if q.since_seq.is_some_and(|s| s < 0) {
        return Err(ApiError::field(
            "since_seq",
            "out_of_range",
            "since_seq is 0 or more",
        ));
    }
    Ok(upgrade
        .on_upgrade(move |socket| session(app, actor, q.since_seq, socket))
        .into_response())
}

/// Whether the event is about a log the user may see (from the routing fields it carries).
pub fn visible(actor: &Actor, e: &PublishedEvent) -> bool {
    let Visibility::OwnAndTeam { user_id, team_id } = actor.visibility() else {
        return true;
    };
    let me = user_id.to_string();
    let p = &e.payload;
    let is_me = |field: &str| p[field].as_str() == Some(me.as_str());
    is_me("assigned_to_user_id")
        || is_me("created_by_user_id")
        || is_me("follow_up_assigned_to")
        || team_id.is_some_and(|t| p["team_id"].as_str() == Some(t.to_string().as_str()))
        || p["watchers"]
            .as_array()
            .is_some_and(|w| w.iter().any(|v| v.as_str() == Some(me.as_str())))
}

fn event_message(e: &PublishedEvent) -> Value {
    json!({
        "type": "event", "seq": e.seq, "event": e.event_type, "data": e.payload,
        "created_at": crate::analytics::rfc3339(e.created_at),
    })
}

async fn send(socket: &mut WebSocket, v: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(v.to_string().into())).await
}

/// One connection: replay, then live events, counters and heartbeats until either side closes.
async fn session(app: AppState, actor: Actor, since: Option<i64>, mut socket: WebSocket) {
    let company = actor.company_id;
    // Subscribed before reading the position, so nothing published in between is lost.
    let mut live = app.events.subscribe();
    let Ok(current) = app.store.last_company_seq(company).await else {
        let _ = socket.send(Message::Close(None)).await;
        return;
    };
    let mut last = since.unwrap_or(current);
    if send(&mut socket, json!({"type": "hello", "seq": current}))
        .await
        .is_err()
    {
        return;
    }
    if replay(&app, &actor, &mut socket, &mut last).await.is_err() {
        return;
    }
    let mut counters: Option<Counters> = None;
    if push_counters(&app, &actor, &mut socket, &mut counters)
        .await
        .is_err()
    {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut debounce = tokio::time::interval(COUNTERS_DEBOUNCE);
    let mut counters_stale = false;
    loop {
        let outcome = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                // Pings are answered by the protocol layer; clients have nothing else to say.
                Some(Ok(_)) => Ok(()),
            },
            received = live.recv() => match received {
                Ok(e) if e.company_id != company || e.seq <= last => Ok(()),
                // In order: deliver it. Anything else means events were missed: read them.
                Ok(e) if e.seq == last + 1 => {
                    last = e.seq;
                    counters_stale = true;
                    if visible(&actor, &e) { send(&mut socket, event_message(&e)).await } else { Ok(()) }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    counters_stale = true;
                    replay(&app, &actor, &mut socket, &mut last).await
                }
                Err(RecvError::Closed) => break,
            },
            _ = heartbeat.tick() => send(&mut socket, json!({"type": "heartbeat", "seq": last})).await,
            _ = debounce.tick(), if counters_stale => {
                counters_stale = false;
                push_counters(&app, &actor, &mut socket, &mut counters).await
            }
        };
        if outcome.is_err() {
            break;
        }
    }
}

/// Sends the visible events after `last` from the outbox, in order, and moves `last` on.
async fn replay(
    app: &AppState,
    actor: &Actor,
    socket: &mut WebSocket,
    last: &mut i64,
) -> Result<(), axum::Error> {
    loop {
        let events = app
            .store
            .company_events_since(actor.company_id, *last, REPLAY_BATCH)
            .await
            .map_err(axum::Error::new)?;
        let done = events.len() < usize::try_from(REPLAY_BATCH).unwrap_or(usize::MAX);
        for e in &events {
            *last = e.seq;
            if visible(actor, e) {
                send(socket, event_message(e)).await?;
            }
        }
        if done {
            return Ok(());
        }
    }
}

/// Sends the scope's counters when they differ from what the client has.
async fn push_counters(
    app: &AppState,
    actor: &Actor,
    socket: &mut WebSocket,
    sent: &mut Option<Counters>,
) -> Result<(), axum::Error> {
    let now = crate::analytics::counters::current(app, actor)
        .await
        .map_err(|e| axum::Error::new(std::io::Error::other(e.message)))?;
    if sent.as_ref() != Some(&now) {
        *sent = Some(now);
        send(socket, json!({"type": "counters", "data": now})).await?;
    }
    Ok(())
}
