//! A participant downloads all their data (SPEC C12, ASVS 8.3.2): from the portal page and
//! over the API, only their own, and every download is in the audit log.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    authz::{Practice, medi_stad, trajectory_for},
    helpers::{TestApp, link_in},
};

/// A measurement with answers and a score for a trajectory, written directly (the
/// questionnaire flow has its own tests).
async fn answered(app: &TestApp, trajectory: &str, marker: &str) -> String {
    let id = format!("m-{marker}");
    sqlx::query(
        "INSERT INTO measurements (id, trajectory_id, point, due_date, instruments, status, \
         reminders, answers, completed_at, created_at) \
         VALUES ($1, $2, 'extra', '2026-11-10', 'phq9', 'completed', 0, $3, 1, 1)",
    )
    .bind(&id)
    .bind(trajectory)
    .bind(json!({ "phq9": { "1": 2 }, "remark": marker }).to_string())
    .execute(&app.state.db.pool)
    .await
    .expect("measurement");
    sqlx::query(
        "INSERT INTO measurement_scores (measurement_id, trajectory_id, instrument, point, \
         total, raw, band, prorated, scored_at) VALUES ($1, $2, 'phq9', 'extra', 7.0, 7, \
         'mild', 0, 1)",
    )
    .bind(&id)
    .bind(trajectory)
    .execute(&app.state.db.pool)
    .await
    .expect("score");
    id
}

#[tokio::test]
async fn a_participant_downloads_their_own_data_and_only_theirs() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    // Another participant in the same group, with a run and answers of their own.
    let other = trajectory_for(&app, &offering, &referrer, &therapist).await;
    sqlx::query(
        "UPDATE referrals SET client_name = 'Piet Pietersen', client_email = 'piet@example.nl' \
         WHERE id = (SELECT referral_id FROM trajectories WHERE id = $1)",
    )
    .bind(&other)
    .execute(&app.state.db.pool)
    .await
    .expect("other");
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    for t in [&trajectory, &other] {
        sqlx::query("UPDATE trajectories SET start_date = '2026-11-03' WHERE id = $1")
            .bind(t)
            .execute(&app.state.db.pool)
            .await
            .expect("start");
    }
    {
        let mut c = app.conn().await;
        let run = duurloop::store::portal::RunRow {
            run_date: "2026-11-05".into(),
            duration_s: 1200,
            note: "piet-zijn-loopje".into(),
            source: "manual".into(),
            ..Default::default()
        };
        duurloop::store::portal::insert_run(&mut c, &other, &run, app.state.now())
            .await
            .expect("run");
    }
    {
        use duurloop::store::messages::{Side, insert};
        let mut c = app.conn().await;
        insert(&mut c, &other, Side::Participant, None, "piet-bericht", 1)
            .await
            .expect("message");
    }
    let own_measurement = answered(&app, &trajectory, "jan-antwoord").await;
    answered(&app, &other, "piet-antwoord").await;
    // The therapist looks at Jan's trajectory: that view is in Jan's download.
    let therapist_browser = app.session_for(&therapist).await;
    assert_eq!(
        app.get(&therapist_browser, &format!("/trajectories/{trajectory}"))
            .await
            .status(),
        StatusCode::OK
    );

    // Jan signs in to the portal and logs a run.
    let browser = app.browser();
    assert_eq!(
        app.get(&browser, "/portal/export").await.status(),
        StatusCode::SEE_OTHER,
        "not signed in: to the sign-in page"
    );
    app.post_form(&browser, "/portal/login", &[("email", "jan@example.nl")])
        .await;
    let mail = app.last_mail_to("jan@example.nl").await.expect("link sent");
    let link = link_in(&mail.body_text, &app.base);
    app.post_form(&browser, &link, &[]).await;
    let today = duurloop::clock::local_date(app.state.now());
    let r = app
        .post_form(
            &browser,
            "/portal/runs",
            &[
                ("date", &today),
                ("minutes", "24"),
                ("note", "jan-zijn-loopje"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Jan and his therapist write to each other.
    let r = app
        .post_form(
            &therapist_browser,
            &format!("/trajectories/{trajectory}/messages"),
            &[("body", "therapeut-aan-jan")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(
            &browser,
            "/portal/berichten",
            &[("body", "jan-aan-therapeut")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The home page has the link, in Dutch.
    let html = app.html(&browser, "/portal").await;
    assert!(
        html.contains("href=\"/portal/export\"") && html.contains("Download mijn gegevens"),
        "{html}"
    );

    let before = app
        .audit_count_of("export", "trajectory", &trajectory)
        .await;
    let r = app.get(&browser, "/portal/export").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("application/json")
    );
    let disposition = r.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("disposition")
        .to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"duurloop-mijn-gegevens-{today}.json\"")
    );
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        app.audit_count_of("export", "trajectory", &trajectory)
            .await,
        before + 1,
        "the download is in the audit log"
    );
    let text = v.to_string();
    assert_eq!(v["referral"]["client_name"], json!("Jan Jansen"), "{v}");
    assert_eq!(v["referral"]["client_email"], json!("jan@example.nl"));
    assert_eq!(v["trajectory"]["id"], json!(trajectory));
    assert!(v["trajectory"]["plan"]["weeks"].is_array(), "{v}");
    assert!(v["intake"]["resting_hr"] == json!(60), "{v}");
    assert!(
        !v["referral_timeline"]
            .as_array()
            .expect("timeline")
            .is_empty()
    );
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{v}");
    assert_eq!(runs[0]["note"], json!("jan-zijn-loopje"));
    assert!(
        v["measurements"]
            .as_array()
            .expect("measurements")
            .iter()
            .any(|m| m["id"] == json!(own_measurement)
                && m["answers"].as_str().unwrap_or("").contains("jan-antwoord"))
    );
    assert!(
        v["scores"]
            .as_array()
            .expect("scores")
            .iter()
            .any(|s| s["measurement_id"] == json!(own_measurement) && s["total"] == json!(7.0))
    );
    let messages = v["messages"].as_array().expect("messages");
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["therapeut-aan-jan", "jan-aan-therapeut"], "{v}");
    assert_eq!(messages[0]["author_side"], json!("therapist"));
    assert_eq!(messages[1]["author_side"], json!("participant"));
    assert!(
        !text.contains("Piet")
            && !text.contains("piet-bericht")
            && !text.contains("piet-zijn-loopje")
            && !text.contains("piet-antwoord")
            && !text.contains(&other),
        "nothing of another participant: {text}"
    );
    assert!(
        !text.contains("token_hash") && !text.contains("submission_key"),
        "no secrets"
    );
    let audit = v["audit"].as_array().expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == json!("read") && a["actor_role"] == json!("therapist")),
        "the therapist's view is listed: {v}"
    );
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == json!("create") && a["record_type"] == json!("run")),
        "the participant's own run is listed"
    );
    assert_eq!(
        audit
            .iter()
            .filter(|a| a["action"] == json!("create") && a["record_type"] == json!("message"))
            .count(),
        2,
        "both messages are listed"
    );
    assert!(
        !text.contains("\"ip\"") && !text.contains("user_agent"),
        "not the staff's addresses"
    );

    // In English the link says so.
    app.get(&browser, "/lang/en").await;
    let html = app.html(&browser, "/portal").await;
    assert!(html.contains("Download my data"), "{html}");
}

#[tokio::test]
async fn the_api_gives_the_same_download_with_the_portal_token_and_401_without() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let client = reqwest::Client::new();
    let r = client
        .get(app.url("/api/v1/portal/export"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.expect("json error body");
    assert!(body["error"].is_object(), "{body}");
    let staff = app.api_token(&therapist).await;
    assert_eq!(
        app.api(&staff, Method::GET, "/api/v1/portal/export")
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::UNAUTHORIZED,
        "a staff token is not a portal session"
    );
    let session = app.portal_api_session("jan@example.nl").await;
    let r = app
        .api(&session, Method::GET, "/api/v1/portal/export")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("disposition")
            .starts_with("attachment; filename=\"duurloop-mijn-gegevens-")
    );
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["trajectory"]["id"], json!(trajectory));
    assert_eq!(v["referral"]["client_name"], json!("Jan Jansen"));
    assert_eq!(
        app.audit_count_of("export", "trajectory", &trajectory)
            .await,
        1
    );
}
