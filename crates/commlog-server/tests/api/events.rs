//! Real-time events over a real WebSocket on a real listener: delivered in order to the users
//! who may see the log, never to another company; a reconnecting client resumes from its last
//! sequence number without gaps or duplicates; tickets open one connection; counters are pushed
//! as they change; a second server process delivers what the first published (PostgreSQL).

use crate::both;
use crate::helpers::*;
use axum::http::StatusCode;
use commlog_domain::Role;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Serves `state` on a loopback port with its event publisher and tailer running.
async fn serve(
    state: commlog_server::state::AppState,
) -> (SocketAddr, Vec<tokio::task::JoinHandle<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut tasks = commlog_server::events::spawn(&state);
    let app =
        commlog_server::api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tasks.push(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }));
    (addr, tasks)
}

async fn connect(addr: SocketAddr, token: Option<&str>, query: &str) -> Result<Socket, String> {
    let mut req = format!("ws://{addr}/ws{query}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    if let Some(t) = token {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

/// The next JSON message within `wait`, if any.
async fn next(ws: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Messages until one matches (panics after 10 s).
async fn until(
    ws: &mut Socket,
    what: &str,
    matches: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let m = next(ws, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no {what}; saw {before:?}"));
        if matches(&m) {
            return (m, before);
        }
        before.push(m);
    }
}

/// The events received within `wait` (other messages dropped).
async fn events_within(ws: &mut Socket, wait: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(m) = next(ws, wait).await {
        if m["type"] == "event" {
            out.push(m);
        }
    }
    out
}

fn created(log: Uuid) -> impl Fn(&Value) -> bool {
    move |m| {
        m["type"] == "event"
            && m["event"] == "communication.created"
            && m["data"]["id"] == log.to_string()
    }
}

async fn events_reach_those_who_may_see_them_and_resume(app: &TestApp) {
    let a = app.company("Alpha").await;
    let team = app.team(&a, "Red").await;
    let (rep1, _) = app.user(&a, Role::SalesRep, Some(team), 50).await;
    let (rep2, rep2_token) = app.user(&a, Role::SalesRep, None, 50).await;
    let b = app.company("Beta").await;
    let (addr, tasks) = serve(app.state.clone()).await;

    let mut admin = connect(addr, Some(&a.admin), "")
        .await
        .expect("admin connects");
    let (hello, _) = until(&mut admin, "hello", |m| m["type"] == "hello").await;
    assert_eq!(hello["seq"], 0);
    // A browser signs in with a ticket: one connection, then it is spent.
    let ticket = app
        .post("/api/auth/ws-ticket", &rep2_token, json!({}))
        .await;
    assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.body);
    let ticket = ticket.body["ticket"].as_str().expect("ticket").to_owned();
    let mut rep2_ws = connect(addr, None, &format!("?ticket={ticket}"))
        .await
        .expect("ticket connects");
    assert!(
        connect(addr, None, &format!("?ticket={ticket}"))
            .await
            .is_err(),
        "a ticket opens one connection"
    );
    assert!(
        connect(addr, None, "").await.is_err(),
        "no credentials, no connection"
    );
    let mut other = connect(addr, Some(&b.admin), "")
        .await
        .expect("other company connects");
    let (counters, _) = until(&mut rep2_ws, "counters", |m| m["type"] == "counters").await;
    assert_eq!(counters["data"]["open"], 0);

    let l1 = app
        .log(&a.admin, json!({"assigned_to_user_id": rep1}))
        .await;
    let (first, _) = until(&mut admin, "L1 created", created(l1)).await;
    let first_seq = first["seq"].as_i64().expect("seq");
    assert!(first_seq >= 1);
    assert_eq!(first["data"]["assigned_to_user_id"], rep1.to_string());

    let l2 = app
        .log(&a.admin, json!({"assigned_to_user_id": rep2}))
        .await;
    let (_, skipped) = until(&mut rep2_ws, "L2 created", created(l2)).await;
    assert!(
        !skipped.iter().any(|m| m["data"]["id"] == l1.to_string()),
        "rep2 may not see L1: {skipped:?}"
    );
    // The counters are recounted when anything changes, so they may count L2 (committed before
    // its event is published) even before L2's event reaches this socket.
    let counted_early = skipped
        .iter()
        .any(|m| m["type"] == "counters" && m["data"]["open"] == 1);
    if !counted_early {
        let (counters, _) = until(&mut rep2_ws, "counters after L2", |m| {
            m["type"] == "counters"
        })
        .await;
        assert_eq!(
            counters["data"]["open"], 1,
            "the new item is counted at once"
        );
    }
    let (l2_event, _) = until(&mut admin, "L2 for admin", created(l2)).await;
    let seen = l2_event["seq"].as_i64().expect("seq");

    // Disconnected, the admin misses L3; reconnecting from the last seq seen replays it.
    drop(admin);
    let l3 = app.log(&a.admin, json!({})).await;
    let l4 = app.log(&a.admin, json!({})).await;
    let mut admin = connect(addr, Some(&a.admin), &format!("?since_seq={seen}"))
        .await
        .expect("reconnects");
    let (_, _) = until(&mut admin, "L4 created", created(l4)).await;
    let mut admin = connect(addr, Some(&a.admin), &format!("?since_seq={seen}"))
        .await
        .expect("reconnects again");
    let replayed = events_within(&mut admin, Duration::from_millis(1500)).await;
    let seqs: Vec<i64> = replayed.iter().filter_map(|m| m["seq"].as_i64()).collect();
    assert_eq!(
        seqs.first().copied(),
        Some(seen + 1),
        "resumes right after the last seen: {replayed:?}"
    );
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "no gaps, no duplicates for an admin: {seqs:?}"
    );
    let ids: Vec<&str> = replayed
        .iter()
        .filter(|m| m["event"] == "communication.created")
        .filter_map(|m| m["data"]["id"].as_str())
        .collect();
    assert_eq!(ids, vec![l3.to_string(), l4.to_string()]);

    // The other company heard nothing of it.
    let theirs = events_within(&mut other, Duration::from_millis(300)).await;
    assert!(theirs.is_empty(), "{theirs:?}");
    let r = app
        .call(
            axum::http::Method::GET,
            "/ws?since_seq=-1",
            Some(&a.admin),
            None,
        )
        .await;
    assert_ne!(r.status, StatusCode::SWITCHING_PROTOCOLS);
    for t in tasks {
        t.abort();
    }
    let _ = rep1;
}

both!(events_reach_those_who_may_see_them_and_resume);

/// Two server processes on one PostgreSQL database: a change made through the first reaches a
/// client of the second (published once, announced with NOTIFY, tailed by both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_delivers_what_the_first_published() {
    run(TestApp::postgres().await, |app| async move {
        let a = app.company("Alpha").await;
        let second_store = commlog_store::Store::connect(&app.url, &Default::default())
            .await
            .expect("second connection");
        let second = commlog_server::state::AppState {
            store: std::sync::Arc::new(second_store),
            events: Default::default(),
            ..app.state.clone()
        };
        let (first_addr, first_tasks) = serve(app.state.clone()).await;
        let (second_addr, second_tasks) = serve(second).await;
        let mut ws = connect(second_addr, Some(&a.admin), "")
            .await
            .expect("connects to the second");
        until(&mut ws, "hello", |m| m["type"] == "hello").await;
        let log = app.log(&a.admin, json!({})).await;
        let (m, _) = until(&mut ws, "the first process's event", created(log)).await;
        assert!(m["seq"].as_i64().is_some());
        let _ = first_addr;
        for t in first_tasks.into_iter().chain(second_tasks) {
            t.abort();
        }
    })
    .await;
}
