//! Guidance at a distance (SPEC §2a): the therapist and the participant write to each other on
//! the trajectory page and in the portal, and over the API; the reader hears by e-mail, in
//! their own language, that there is a message, never what it says; only the trajectory's
//! team sees the conversation, and every view and message is in the audit log.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::{Practice, medi_stad, trajectory_for},
    helpers::{TestApp, location},
};

/// Mails about new messages to an address.
async fn notices_to(app: &TestApp, to: &str) -> Vec<duurloop::store::outbox::MailRow> {
    let mut c = app.conn().await;
    duurloop::store::outbox::recent(&mut c, 100)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.to_addr == to && m.kind == "new_message")
        .collect()
}

/// How many messages of a side are unread.
async fn unread(app: &TestApp, trajectory: &str, side: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM messages WHERE trajectory_id = $1 \
         AND author_side = $2 AND read_at IS NULL",
    )
    .bind(trajectory)
    .bind(side)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    n
}

#[tokio::test]
async fn therapist_and_participant_write_to_each_other_on_the_trajectory_page_and_in_the_portal() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let staff = app.session_for(&therapist).await;
    let page = format!("/trajectories/{trajectory}");
    let html = app.html(&staff, &page).await;
    assert!(
        html.contains("id=\"messages\"") && html.contains("Nog geen berichten."),
        "{html}"
    );

    // The therapist writes twice; the participant is mailed once, without the text.
    let send = format!("/trajectories/{trajectory}/messages");
    let r = app
        .post_form(
            &staff,
            &send,
            &[("body", "  Hoi Jan, hoe gaat het lopen?  ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/trajectories/{trajectory}#messages"));
    app.post_form(&staff, &send, &[("body", "Denk aan je rustige tempo.")])
        .await;
    let notices = notices_to(&app, "jan@example.nl").await;
    assert_eq!(notices.len(), 1, "one mail per unread streak");
    let mail = &notices[0];
    assert_eq!(mail.subject, "Er is een nieuw bericht voor u");
    assert!(
        mail.body_text.contains("/portal/berichten"),
        "{}",
        mail.body_text
    );
    for text in [&mail.body_text, &mail.body_html] {
        assert!(
            !text.contains("hoe gaat het lopen") && !text.contains("rustige tempo"),
            "no message text in a mail: {text}"
        );
    }
    // An empty message is refused with a clear message, and nothing is stored.
    let r = app.post_form(&staff, &send, &[("body", "   ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Schrijf eerst een bericht.")
    );
    assert_eq!(unread(&app, &trajectory, "therapist").await, 2);
    // A message that cannot be sent is not lost: the form shows it again.
    let long = format!("Lange uitleg over het schema. {}", "x".repeat(4000));
    let r = app.post_form(&staff, &send, &[("body", &long)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(
        html.contains(&format!(
            "name=\"body\" rows=\"4\" maxlength=\"4000\" required>{long}</textarea>"
        )),
        "the typed text is kept"
    );
    assert_eq!(unread(&app, &trajectory, "therapist").await, 2);

    // The participant sees that there is something new, opens it, and it is read.
    let portal = app.portal_browser("jan@example.nl").await;
    let home = app.html(&portal, "/portal").await;
    assert!(
        home.contains("nieuwe berichten voor u") && home.contains("href=\"/portal/berichten\""),
        "{home}"
    );
    let html = app.html(&portal, "/portal/berichten").await;
    assert!(
        html.contains("Hoi Jan, hoe gaat het lopen?")
            && html.contains("Denk aan je rustige tempo."),
        "{html}"
    );
    assert!(html.contains("Naam poh@medi-stad.example"), "who wrote it");
    assert!(html.contains("113"), "where to find help right away");
    assert_eq!(unread(&app, &trajectory, "therapist").await, 0);
    let home = app.html(&portal, "/portal").await;
    assert!(!home.contains("nieuwe berichten voor u"), "{home}");

    // The participant answers; the therapist is mailed, without the text.
    let r = app
        .post_form(
            &portal,
            "/portal/berichten",
            &[("body", "Goed! Ik liep 20 minuten.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(&portal, "/portal/berichten", &[("body", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let notices = notices_to(&app, "poh@medi-stad.example").await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].subject, "Er is een nieuw bericht voor u");
    assert!(
        notices[0]
            .body_text
            .contains(&format!("/trajectories/{trajectory}#messages"))
    );
    assert!(!notices[0].body_text.contains("20 minuten"));
    assert!(!notices[0].body_html.contains("20 minuten"));

    // The therapist's start page counts it; opening the trajectory reads it.
    let start = app.html(&staff, "/").await;
    assert!(
        start.contains("id=\"unread-messages\"")
            && start.contains(&format!("href=\"/trajectories/{trajectory}#messages\"")),
        "{start}"
    );
    let html = app.html(&staff, &page).await;
    assert!(html.contains("Goed! Ik liep 20 minuten."), "{html}");
    assert!(
        html.contains("gelezen"),
        "the therapist sees their messages were read"
    );
    assert_eq!(unread(&app, &trajectory, "participant").await, 0);
    let start = app.html(&staff, "/").await;
    assert!(!start.contains("id=\"unread-messages\""), "{start}");

    // Every view and every message is in the audit log; no text is.
    assert_eq!(app.audit_count("create", "message").await, 3);
    assert!(app.audit_count_of("read", "messages", &trajectory).await >= 4);
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE COALESCE(reason, '') LIKE '%minuten%' \
         OR COALESCE(record_id, '') LIKE '%minuten%'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(n, 0);

    // In English too.
    app.get(&portal, "/portal/lang/en?back=/portal/berichten")
        .await;
    let html = app.html(&portal, "/portal/berichten").await;
    assert!(
        html.contains("<h1>Messages</h1>") && html.contains("Your message"),
        "{html}"
    );
}

#[tokio::test]
async fn the_api_carries_the_conversation_and_mails_each_side_in_its_own_language() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    // The participant reads English; the therapist Dutch.
    sqlx::query(
        "UPDATE referrals SET client_lang = 'en' WHERE id = \
         (SELECT referral_id FROM trajectories WHERE id = $1)",
    )
    .bind(&trajectory)
    .execute(&app.state.db.pool)
    .await
    .expect("language");
    let staff = app.api_token(&therapist).await;
    let path = format!("/api/v1/trajectories/{trajectory}/messages");
    let send = |token: &str, path: &str, body: Value| {
        app.api(token, Method::POST, path).json(&body).send()
    };

    // Bad input: a clear 422 with the field, nothing stored.
    for (body, message) in [
        (json!({ "body": "  " }), "Schrijf eerst een bericht."),
        (
            json!({ "body": "x".repeat(4001) }),
            "Dit bericht is te lang: hooguit 4000 tekens.",
        ),
        (
            // (A NUL is refused before any route, `platform::a_nul_character_in_any_text_…`.)
            json!({ "body": "bel\u{7}teken" }),
            "Dit bericht bevat tekens die niet in een bericht horen.",
        ),
    ] {
        let r = send(&staff, &path, body).await.expect("req");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"]["fields"]["body"], json!(message), "{v}");
    }
    let r = send(&staff, &path, json!({})).await.expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .api(&staff, Method::POST, &path)
        .header("accept-language", "en")
        .json(&json!({ "body": "" }))
        .send()
        .await
        .expect("req");
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["error"]["fields"]["body"],
        json!("Please write a message first.")
    );

    let r = send(
        &staff,
        &path,
        json!({ "body": "Hello Jan, how did the run go?" }),
    )
    .await
    .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let notices = notices_to(&app, "jan@example.nl").await;
    assert_eq!(notices[0].subject, "There is a new message for you");
    assert!(!notices[0].body_text.contains("how did the run go"));

    // The participant's app: the count on the home, the conversation, the answer.
    let session = app.portal_api_session("jan@example.nl").await;
    assert_eq!(
        app.get_json(&session, "/api/v1/portal").await["unread_messages"],
        json!(1)
    );
    let v = app.get_json(&session, "/api/v1/portal/messages").await;
    let list = v["messages"].as_array().expect("messages");
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["id"], json!(id));
    assert_eq!(list[0]["author_side"], json!("therapist"));
    assert_eq!(list[0]["author_name"], json!("Naam poh@medi-stad.example"));
    assert_eq!(list[0]["body"], json!("Hello Jan, how did the run go?"));
    assert!(list[0]["read_at"].is_i64(), "opening marks it read: {v}");
    assert_eq!(
        app.get_json(&session, "/api/v1/portal").await["unread_messages"],
        json!(0)
    );
    let portal_path = "/api/v1/portal/messages";
    let r = send(&session, portal_path, json!({ "body": "" }))
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for text in ["Fine, 25 minutes!", "And no pain."] {
        let r = send(&session, portal_path, json!({ "body": text }))
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let notices = notices_to(&app, "poh@medi-stad.example").await;
    assert_eq!(notices.len(), 1, "one mail per unread streak");
    assert_eq!(notices[0].subject, "Er is een nieuw bericht voor u");
    assert!(!notices[0].body_text.contains("25 minutes"));
    // A staff token is no portal session; no token is nothing.
    let r = app
        .api(&staff, Method::GET, portal_path)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The therapist reads the conversation, newest last; that marks the answers read.
    assert_eq!(unread(&app, &trajectory, "participant").await, 2);
    let v = app.get_json(&staff, &path).await;
    let list = v["messages"].as_array().expect("messages");
    let bodies: Vec<&str> = list.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(
        bodies,
        [
            "Hello Jan, how did the run go?",
            "Fine, 25 minutes!",
            "And no pain."
        ]
    );
    assert_eq!(list[2]["author_side"], json!("participant"));
    assert_eq!(list[2]["author_name"], Value::Null);
    assert_eq!(unread(&app, &trajectory, "participant").await, 0);

    // After reading, the next message mails again.
    send(&session, portal_path, json!({ "body": "One more thing." }))
        .await
        .expect("req");
    assert_eq!(notices_to(&app, "poh@medi-stad.example").await.len(), 2);
    assert_eq!(app.audit_count("create", "message").await, 4);
    assert!(app.audit_count_of("read", "messages", &trajectory).await >= 2);
}

#[tokio::test]
async fn only_the_trajectory_team_sees_the_messages_and_a_coordinator_leaves_them_unread() {
    let app = TestApp::spawn().await;
    let Practice {
        org,
        therapist,
        referrer,
        offering,
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let colleague = app
        .user(
            "collega@medi-stad.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let coordinator = app
        .user(
            "coord@medi-stad.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let insurer = app.org("Zuiderzee", OrgKind::Insurer).await;
    let funder = app
        .user(
            "inkoop@zuiderzee.example",
            false,
            &[(&insurer, Role::Funder)],
            true,
        )
        .await;
    let session = app.portal_api_session("jan@example.nl").await;
    let r = app
        .api(&session, Method::POST, "/api/v1/portal/messages")
        .json(&json!({ "body": "Mag ik zaterdag lopen?" }))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);

    let api = format!("/api/v1/trajectories/{trajectory}/messages");
    let page = format!("/trajectories/{trajectory}");
    let form = format!("/trajectories/{trajectory}/messages");
    for who in [&referrer, &colleague, &funder] {
        let token = app.api_token(who).await;
        let r = app
            .api(&token, Method::GET, &api)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{}", who.email);
        let r = app
            .api(&token, Method::POST, &api)
            .json(&json!({ "body": "Hallo" }))
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{}", who.email);
        let browser = app.session_for(who).await;
        let html = app.html(&browser, &page).await;
        assert!(!html.contains("Mag ik zaterdag lopen?"), "{}", who.email);
        let r = app.post_form(&browser, &form, &[("body", "Hallo")]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{}", who.email);
    }
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM messages")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 1, "no message from anyone outside the team");

    // The coordinator may read and write, but their look leaves it unread for the therapist.
    let token = app.api_token(&coordinator).await;
    let v = app.get_json(&token, &api).await;
    assert_eq!(
        v["messages"][0]["body"],
        json!("Mag ik zaterdag lopen?"),
        "{v}"
    );
    assert_eq!(unread(&app, &trajectory, "participant").await, 1);
    let r = app
        .api(&token, Method::POST, &api)
        .json(&json!({ "body": "Zaterdag is prima." }))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let (role,): (Option<String>,) = sqlx::query_as(
        "SELECT actor_role FROM audit_log WHERE action = 'read' AND record_type = 'messages' \
         AND actor_user_id = $1",
    )
    .bind(&coordinator.id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("the coordinator's read is logged");
    assert_eq!(role.as_deref(), Some("coordinator"));
    let token = app.api_token(&therapist).await;
    app.get_json(&token, &api).await;
    assert_eq!(unread(&app, &trajectory, "participant").await, 0);
}
