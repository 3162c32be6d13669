//! Limits on requests that send e-mail (ASVS 2.2.1, 11.1.2): at most 3 mails per address an
//! hour and 20 requests per client in 15 minutes. Over the limit nothing is sent, the answer
//! is the same as always, and the audit log says `throttled`.

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::{authz::trajectory_for, helpers::TestApp};

/// Messages of one kind in the outbox to an address.
async fn mails_to(app: &TestApp, kind: &str, to: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE kind = $1 AND to_addr = $2",
    )
    .bind(kind)
    .bind(to)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    n
}

/// Audit entries of an action with outcome `throttled`.
async fn throttled(app: &TestApp, action: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = $1 AND outcome = 'throttled'",
    )
    .bind(action)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    n
}

/// A practice with `n` participants in active trajectories (all jan@example.nl at first);
/// their trajectory ids.
async fn participants(app: &TestApp, n: usize) -> Vec<String> {
    let crate::authz::Practice {
        therapist,
        referrer,
        offering,
        ..
    } = crate::authz::medi_stad(app).await;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(trajectory_for(app, &offering, &referrer, &therapist).await);
    }
    ids
}

/// Two participants in active trajectories: jan@example.nl and piet@example.nl.
async fn two_participants(app: &TestApp) {
    let piet = participants(app, 2).await.remove(1);
    sqlx::query(
        "UPDATE referrals SET client_email = 'piet@example.nl' \
         WHERE id = (SELECT referral_id FROM trajectories WHERE id = $1)",
    )
    .bind(&piet)
    .execute(&app.state.db.pool)
    .await
    .expect("second address");
}

/// Posts a form and returns what the visitor sees: status and page.
async fn answer(app: &TestApp, path: &str, email: &str) -> (StatusCode, String) {
    let r = app
        .post_form(&app.browser(), path, &[("email", email)])
        .await;
    (r.status(), r.text().await.expect("body"))
}

#[tokio::test]
async fn a_fourth_link_request_for_one_address_within_the_hour_sends_nothing_and_answers_the_same()
{
    let app = TestApp::spawn().await;
    two_participants(&app).await;
    for _ in 0..3 {
        answer(&app, "/portal/login", "jan@example.nl").await;
    }
    assert_eq!(mails_to(&app, "portal_link", "jan@example.nl").await, 3);

    let fourth = answer(&app, "/portal/login", "jan@example.nl").await;
    let unknown = answer(&app, "/portal/login", "niemand@example.nl").await;
    assert_eq!(fourth.0, StatusCode::OK);
    assert_eq!(fourth, unknown, "the same page as for any other address");
    assert_eq!(
        mails_to(&app, "portal_link", "jan@example.nl").await,
        3,
        "no fourth mail"
    );
    let api = Client::new()
        .post(app.url("/api/v1/portal/link"))
        .json(&json!({ "email": "jan@example.nl" }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        api.status(),
        StatusCode::ACCEPTED,
        "the API answers as always"
    );
    assert_eq!(mails_to(&app, "portal_link", "jan@example.nl").await, 3);
    assert_eq!(throttled(&app, "request_portal_link").await, 2);

    answer(&app, "/portal/login", "piet@example.nl").await;
    assert_eq!(
        mails_to(&app, "portal_link", "piet@example.nl").await,
        1,
        "another address is not affected"
    );

    app.clock.advance_ms(3_600_000);
    answer(&app, "/portal/login", "jan@example.nl").await;
    assert_eq!(
        mails_to(&app, "portal_link", "jan@example.nl").await,
        4,
        "an hour later a link is sent again"
    );
}

#[tokio::test]
async fn a_fourth_password_reset_within_the_hour_sends_nothing_and_answers_the_same() {
    let app = TestApp::spawn().await;
    let anna = app.user("anna@praktijk.example", false, &[], false).await;
    let bert = app.user("bert@praktijk.example", false, &[], false).await;
    for _ in 0..3 {
        answer(&app, "/password/forgot", &anna.email).await;
    }
    assert_eq!(mails_to(&app, "password_reset", &anna.email).await, 3);

    let fourth = answer(&app, "/password/forgot", &anna.email).await;
    let unknown = answer(&app, "/password/forgot", "niemand@praktijk.example").await;
    assert_eq!(fourth.0, StatusCode::OK);
    assert_eq!(fourth, unknown, "the same page as for an unknown address");
    assert_eq!(mails_to(&app, "password_reset", &anna.email).await, 3);
    assert_eq!(throttled(&app, "request_password_reset").await, 1);
    assert_eq!(
        app.audit_count_of("request_password_reset", "user", &anna.id)
            .await,
        4,
        "three sent and one throttled, all about Anna"
    );

    answer(&app, "/password/forgot", &bert.email).await;
    assert_eq!(
        mails_to(&app, "password_reset", &bert.email).await,
        1,
        "another address is not affected"
    );
}

#[tokio::test]
async fn one_client_gets_at_most_twenty_mail_requests_per_quarter_hour() {
    let app = TestApp::spawn().await;
    let anna = app.user("anna@praktijk.example", false, &[], false).await;
    for i in 0..20 {
        answer(&app, "/password/forgot", &format!("iemand{i}@example.nl")).await;
    }
    let r = answer(&app, "/password/forgot", &anna.email).await;
    assert_eq!(r.0, StatusCode::OK);
    assert_eq!(
        mails_to(&app, "password_reset", &anna.email).await,
        0,
        "the 21st request from one address sends nothing"
    );
    assert_eq!(throttled(&app, "request_password_reset").await, 1);

    app.clock.advance_ms(15 * 60_000);
    answer(&app, "/password/forgot", &anna.email).await;
    assert_eq!(mails_to(&app, "password_reset", &anna.email).await, 1);
}

/// Runs: at most twenty a day per participant, by hand and upload together (ASVS 12.1.3).
#[tokio::test]
async fn a_participant_logs_at_most_twenty_runs_a_day() {
    let app = TestApp::spawn().await;
    let trajectory = participants(&app, 1).await.remove(0);
    let token = duurloop::store::new_token();
    let now = app.state.now();
    let mut c = app.conn().await;
    duurloop::store::portal::create_session(&mut c, &token, &trajectory, now)
        .await
        .expect("portal session");
    sqlx::query("UPDATE trajectories SET start_date = '2000-01-01' WHERE id = $1")
        .bind(&trajectory)
        .execute(&mut *c)
        .await
        .expect("started long ago");
    drop(c);
    let today = duurloop::clock::local_date(now);
    let post = || {
        Client::new()
            .post(app.url("/api/v1/portal/runs"))
            .bearer_auth(&token)
            .json(&json!({"date": today, "minutes": "20"}))
    };
    for i in 0..20 {
        let r = post().send().await.expect("req");
        assert_eq!(r.status(), StatusCode::CREATED, "run {i}");
    }
    let r = post().send().await.expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(body["error"]["fields"]["date"].is_string(), "{body}");
    // A day later there is room again (the runs are made a day older; a session would not
    // last a day).
    sqlx::query("UPDATE runs SET created_at = created_at - 86400001")
        .execute(&app.state.db.pool)
        .await
        .expect("a day older");
    let r = post().send().await.expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
}
