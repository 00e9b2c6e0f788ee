//! The access matrix (SPEC §4) through the API: who sees which logs, who may change what.

use crate::both;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use commlog_domain::Role;
use serde_json::json;

async fn reps_see_their_own_watched_and_team_logs_only(app: &TestApp) {
    let c = app.company("Acme").await;
    let (red, blue) = (app.team(&c, "Red").await, app.team(&c, "Blue").await);
    let (rep, rep_token) = app.user(&c, Role::SalesRep, Some(red), 10).await;
    let (_, mate_token) = app.user(&c, Role::SalesRep, Some(red), 10).await;
    let (_, other_token) = app.user(&c, Role::SalesRep, Some(blue), 10).await;
    let (_, lead_token) = app.user(&c, Role::TeamLead, Some(blue), 10).await;
    let (_, manager_token) = app.user(&c, Role::Manager, None, 10).await;

    let own = app.log(&rep_token, json!({})).await;
    let teams = app.log(&mate_token, json!({})).await;
    let foreign = app.log(&other_token, json!({})).await;
    let watched = app.log(&c.admin, json!({"watcher_ids": [rep]})).await;
    let assigned = app.log(&c.admin, json!({"assigned_to_user_id": rep})).await;
    let unrelated = app.log(&c.admin, json!({})).await;

    let visible = |token: String| async move {
        let r = app
            .get("/api/communication-logs/?page_size=100", &token)
            .await;
        let mut ids: Vec<uuid::Uuid> = r.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(id)
            .collect();
        ids.sort();
        ids
    };
    let mut expected = vec![own, teams, watched, assigned];
    expected.sort();
    assert_eq!(visible(rep_token.clone()).await, expected);
    for hidden in [foreign, unrelated] {
        assert_eq!(
            app.get(&format!("/api/communication-logs/{hidden}/"), &rep_token)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let r = app
            .patch(
                &format!("/api/communication-logs/{hidden}/"),
                &rep_token,
                json!({"priority": "low"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // The blue team lead sees the blue rep's log, not red's.
    let lead_sees = visible(lead_token.clone()).await;
    assert!(lead_sees.contains(&foreign) && !lead_sees.contains(&own));
    assert_eq!(visible(manager_token).await.len(), 6);
}

async fn escalation_delete_and_configuration_need_the_right_role(app: &TestApp) {
    let c = app.company("Acme").await;
    let team = app.team(&c, "Red").await;
    let (_, rep) = app.user(&c, Role::SalesRep, Some(team), 10).await;
    let (_, lead) = app.user(&c, Role::TeamLead, Some(team), 10).await;
    let log = app.log(&rep, json!({})).await;
    let path = format!("/api/communication-logs/{log}/");
    let r = app.patch(&path, &rep, json!({"status": "escalated"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error_code"], "forbidden");
    assert_eq!(
        app.patch(&path, &lead, json!({"status": "escalated"}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&lead), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for (path, body) in [
        (
            "/api/communication-categories/",
            json!({"category_name": "X", "category_code": "x"}),
        ),
        (
            "/api/channel-configurations/",
            json!({"channel_name": "X", "channel_code": "x"}),
        ),
        (
            "/api/users/",
            json!({"email": "x@example.com", "password": "long enough password", "role": "admin"}),
        ),
        ("/api/teams/", json!({"name": "X"})),
    ] {
        for token in [&rep, &lead] {
            let r = app.post(path, token, body.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        }
    }
    // Reading reference data is for everyone.
    assert_eq!(
        app.get("/api/channel-configurations/", &rep).await.status,
        StatusCode::OK
    );
}

both!(
    reps_see_their_own_watched_and_team_logs_only,
    escalation_delete_and_configuration_need_the_right_role
);
