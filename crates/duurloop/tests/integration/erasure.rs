//! Erasure on request (SPEC C12, AVG art. 17): a coordinator of the provider erases the
//! personal data of a closed referral; scores, attendance and report numbers stay, the portal
//! no longer lets the participant in, and the erasure is in the audit log with its reason.

use duurloop::cli::demo;
use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, link_in};

async fn count(app: &TestApp, sql: &'static str, id: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n
}

async fn erase(app: &TestApp, token: &str, referral: &str, reason: &str) -> (StatusCode, Value) {
    let r = app
        .api(
            token,
            Method::POST,
            &format!("/api/v1/referrals/{referral}/erase"),
        )
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .expect("req");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn impact(app: &TestApp, token: &str, query: &str) -> Value {
    let v = app
        .get_json(token, &format!("/api/v1/reports/impact?{query}"))
        .await;
    json!({ "rows": v["rows"], "total": v["total"], "suppressed": v["suppressed"] })
}

#[tokio::test]
async fn a_coordinator_erases_a_closed_referral_and_the_numbers_stay() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let (trajectory, referral): (String, String) = sqlx::query_as(
        "SELECT t.id, r.id FROM trajectories t JOIN referrals r ON r.id = t.referral_id \
         WHERE r.client_name = 'Anouk Smit'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("Anouk");
    let coord = app.demo_user("praktijkmanager@medi-stad.example").await;
    let poh = app.demo_user("poh@medi-stad.example").await;
    let gp = app.demo_user("huisarts@medi-stad.example").await;
    let other_org = app.org("Elders", OrgKind::TherapistPractice).await;
    let other = app
        .user(
            "coordinator@elders.example",
            false,
            &[(&other_org, Role::Coordinator)],
            true,
        )
        .await;
    let coord_token = app.api_token(&coord).await;

    // Anouk signs in to the portal; a run with a pain note and a feedback text exist.
    let portal = app.browser();
    app.post_form(
        &portal,
        "/portal/login",
        &[("email", "deelnemer1@example.nl")],
    )
    .await;
    let mail = app
        .last_mail_to("deelnemer1@example.nl")
        .await
        .expect("link sent");
    let link = link_in(&mail.body_text, &app.base);
    app.post_form(&portal, &link, &[]).await;
    assert_eq!(app.get(&portal, "/portal").await.status(), StatusCode::OK);
    {
        let mut c = app.conn().await;
        let run = duurloop::store::portal::RunRow {
            run_date: "2026-11-05".into(),
            duration_s: 1200,
            pain: 3,
            pain_where: "linkerknie-anouk".into(),
            note: "anouk-haar-loopje".into(),
            source: "manual".into(),
            ..Default::default()
        };
        duurloop::store::portal::insert_run(&mut c, &trajectory, &run, app.state.now())
            .await
            .expect("run");
    }
    sqlx::query(
        "INSERT INTO feedback_reports (id, trajectory_id, kind, status, summary, advice, \
         next_steps, created_at, updated_at) VALUES ('fb-anouk', $1, 'end', 'draft', \
         'Anouk liep goed', 'Blijven lopen', 'Over drie maanden bellen', 1, 1)",
    )
    .bind(&trajectory)
    .execute(&app.state.db.pool)
    .await
    .expect("feedback");

    // While the trajectory runs, erasure is refused with the reason why.
    let (s, v) = erase(&app, &coord_token, &referral, "Verzoek van de deelnemer").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["fields"]["status"]
            .as_str()
            .is_some_and(|m| m.contains("loopt nog")),
        "{v}"
    );
    let html = app
        .html(
            &app.session_for(&coord).await,
            &format!("/referrals/{referral}"),
        )
        .await;
    assert!(!html.contains("id=\"erase\""), "no erase form while active");

    // The therapist completes it.
    let poh_token = app.api_token(&poh).await;
    let r = app
        .api(
            &poh_token,
            Method::POST,
            &format!("/api/v1/trajectories/{trajectory}/status"),
        )
        .json(&json!({ "action": "complete" }))
        .send()
        .await
        .expect("req");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(app.get(&portal, "/portal").await.status(), StatusCode::OK);

    let scores = "SELECT CAST(COUNT(*) AS BIGINT) FROM measurement_scores WHERE trajectory_id = $1";
    let attendance = "SELECT CAST(COUNT(*) AS BIGINT) FROM attendance WHERE trajectory_id = $1";
    let runs = "SELECT CAST(COUNT(*) AS BIGINT) FROM runs WHERE trajectory_id = $1";
    let messages = "SELECT CAST(COUNT(*) AS BIGINT) FROM messages WHERE trajectory_id = $1";
    assert!(
        count(&app, messages, &trajectory).await > 0,
        "the demo has her messages"
    );
    let runs_before = count(&app, runs, &trajectory).await;
    let scores_before = count(&app, scores, &trajectory).await;
    let attendance_before = count(&app, attendance, &trajectory).await;
    assert!(scores_before > 0 && attendance_before > 0);
    let org = crate::reports::user_org(&app, "praktijkmanager@medi-stad.example").await;
    let funder = app.demo_user("zorginkoop@zuiderzee.example").await;
    let funder_token = app.api_token(&funder).await;
    let insurer = crate::reports::user_org(&app, "zorginkoop@zuiderzee.example").await;
    let coord_report = impact(&app, &coord_token, &format!("org={org}&by=offering")).await;
    let funder_report = impact(&app, &funder_token, &format!("org={insurer}")).await;

    // Not the therapist, not the referrer, not another organisation's coordinator.
    for (who, status) in [
        (&poh, StatusCode::FORBIDDEN),
        (&gp, StatusCode::FORBIDDEN),
        (&other, StatusCode::NOT_FOUND),
    ] {
        let t = app.api_token(who).await;
        let (s, v) = erase(&app, &t, &referral, "Verzoek").await;
        assert_eq!(s, status, "{}: {v}", who.email);
    }
    assert_eq!(
        app.audit_count_outcome("erase", "referral", "denied").await,
        3,
        "each refused erasure is logged"
    );
    // A reason is required.
    let (s, v) = erase(&app, &coord_token, &referral, "  ").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["fields"]["reason"].is_string(), "{v}");

    // On the page: the section, and the confirmation is required.
    let browser = app.session_for(&coord).await;
    let html = app.html(&browser, &format!("/referrals/{referral}")).await;
    assert!(
        html.contains("id=\"erase\"") && html.contains("Gegevens wissen"),
        "{html}"
    );
    let path = format!("/referrals/{referral}/erase");
    let r = app
        .post_form(&browser, &path, &[("reason", "Verzoek per e-mail")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("body").contains("Bevestig dat u"));
    assert!(html.contains("Anouk Smit"), "not erased yet");
    let r = app
        .post_form(
            &browser,
            &path,
            &[("reason", "Verzoek per e-mail"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The page says so and shows nothing of her.
    let html = app.html(&browser, &format!("/referrals/{referral}")).await;
    assert!(html.contains("Gegevens gewist op"), "{html}");
    assert!(html.contains("Gewiste deelnemer"));
    for gone in ["Anouk", "deelnemer1@example.nl", "8232 AB", "id=\"erase\""] {
        assert!(!html.contains(gone), "{gone} still on the page");
    }

    // The rows.
    let (name, email, postcode, erased_at): (String, String, String, Option<i64>) = sqlx::query_as(
        "SELECT client_name, client_email, client_postcode, erased_at FROM referrals WHERE id = $1",
    )
    .bind(&referral)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("referral");
    assert_eq!(
        (name.as_str(), email.as_str(), postcode.as_str()),
        ("Gewiste deelnemer", "", "")
    );
    assert!(erased_at.is_some());
    for (sql, what) in [
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM intakes WHERE referral_id = $1 \
             AND (screen <> '' OR age IS NOT NULL OR resting_hr IS NOT NULL OR goals <> '')",
            "intake answers",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM runs WHERE trajectory_id = \
             (SELECT id FROM trajectories WHERE referral_id = $1) AND (note <> '' OR pain_where <> '')",
            "run notes",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM measurements WHERE trajectory_id = \
             (SELECT id FROM trajectories WHERE referral_id = $1) AND (answers <> '{}' OR token_hash IS NOT NULL)",
            "questionnaire answers and links",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM feedback_reports WHERE trajectory_id = \
             (SELECT id FROM trajectories WHERE referral_id = $1) AND (summary <> '' OR advice <> '' OR next_steps <> '')",
            "feedback texts",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM portal_sessions WHERE trajectory_id = \
             (SELECT id FROM trajectories WHERE referral_id = $1)",
            "portal sessions",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM portal_links WHERE trajectory_id = \
             (SELECT id FROM trajectories WHERE referral_id = $1)",
            "magic links",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM messages WHERE trajectory_id = \
             (SELECT id FROM trajectories WHERE referral_id = $1)",
            "messages with her therapist",
        ),
        (
            "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE to_addr = 'deelnemer1@example.nl' \
             AND $1 <> ''",
            "mails to her",
        ),
    ] {
        assert_eq!(count(&app, sql, &referral).await, 0, "{what}");
    }
    assert_eq!(
        count(&app, runs, &trajectory).await,
        runs_before,
        "the runs stay"
    );
    assert_eq!(count(&app, scores, &trajectory).await, scores_before);
    assert_eq!(
        count(&app, attendance, &trajectory).await,
        attendance_before
    );
    assert_eq!(
        impact(&app, &coord_token, &format!("org={org}&by=offering")).await,
        coord_report
    );
    assert_eq!(
        impact(&app, &funder_token, &format!("org={insurer}")).await,
        funder_report
    );

    // Her portal session no longer works.
    assert_eq!(
        app.get(&portal, "/portal").await.status(),
        StatusCode::SEE_OTHER
    );

    // In the audit log, with the reason; the log itself is kept.
    let (reason, role): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT reason, actor_role FROM audit_log WHERE action = 'erase' AND record_id = $1 \
         AND outcome = 'ok'",
    )
    .bind(&referral)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("erase entry");
    assert_eq!(reason.as_deref(), Some("Verzoek per e-mail"));
    assert_eq!(role.as_deref(), Some("coordinator"));
    assert!(app.audit_count_of("read", "referral", &referral).await > 0);

    // Not twice.
    let (s, v) = erase(&app, &coord_token, &referral, "Nog eens").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        app.audit_count_outcome("erase", "referral", "ok").await,
        1,
        "erased once"
    );

    // In English too.
    app.get(&browser, "/lang/en").await;
    let html = app.html(&browser, &format!("/referrals/{referral}")).await;
    assert!(html.contains("Data erased on"), "{html}");
}
