//! Closing the loop: the feedback report to the referrer, the FHIR export, and impact
//! reports for coordinators and (suppressed) for funders.

use duurloop::cli::demo;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The demo's Medi-Stad participant Anouk Smit: baseline and week-5 scores, attendance, runs.
async fn demo_trajectory(app: &TestApp, name: &str) -> String {
    let (id,): (String,) = sqlx::query_as(
        "SELECT t.id FROM trajectories t JOIN referrals r ON r.id = t.referral_id WHERE r.client_name = $1",
    )
    .bind(name)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("trajectory");
    id
}

#[tokio::test]
async fn the_therapist_reviews_and_sends_the_feedback_report_and_the_referrer_reads_it() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let trajectory = demo_trajectory(&app, "Anouk Smit").await;
    let poh = app.demo_user("poh@medi-stad.example").await;
    let gp = app.demo_user("huisarts@medi-stad.example").await;
    let therapist = app.session_for(&poh).await;
    let r = app
        .post_form(
            &therapist,
            &format!("/trajectories/{trajectory}/feedback"),
            &[("kind", "end")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page_path = crate::helpers::location(&r);
    let html = app.html(&therapist, &page_path).await;
    assert!(
        html.contains("groepstrainingen aanwezig") && html.contains("<strong>15</strong>"),
        "{html}"
    );
    assert!(html.contains("id=\"feedback-form\""));
    let id = page_path.rsplit('/').next().expect("id").to_string();
    // A draft is the team's: the referrer does not see it yet.
    let gp_token = app.api_token(&gp).await;
    assert_eq!(
        app.api(&gp_token, Method::GET, &format!("/api/v1/feedback/{id}"))
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = app
        .post_form(
            &therapist,
            &page_path,
            &[("summary", ""), ("action", "send")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a summary is required"
    );
    let r = app
        .post_form(
            &therapist,
            &page_path,
            &[
                (
                    "summary",
                    "Anouk liep trouw mee en voelt zich duidelijk beter.",
                ),
                ("advice", "Blijf drie keer per week rustig lopen."),
                ("next_steps", "Follow-up over drie maanden."),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mail = app
        .last_mail_to("huisarts@medi-stad.example")
        .await
        .expect("referrer told");
    assert!(mail.subject.contains("Terugrapportage") && !mail.body_text.contains("Anouk"));
    let v: Value = app
        .api(&gp_token, Method::GET, &format!("/api/v1/feedback/{id}"))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(v["report"]["status"], "sent");
    assert!(v["generated"]["courses"].as_array().expect("courses").len() == 3);
    let html = app
        .get(&app.session_for(&gp).await, &page_path)
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("voelt zich duidelijk beter") && !html.contains("id=\"feedback-form\""));
    // The referrer downloads the letter; its text holds the scores and the summary.
    let r = app
        .api(
            &gp_token,
            Method::GET,
            &format!("/api/v1/feedback/{id}/pdf"),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("text");
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Terugrapportage runningtherapie: Anouk Smit"),
        "{flat}"
    );
    assert!(
        flat.contains("15") && flat.contains("Matig") && flat.contains("trouw mee"),
        "{flat}"
    );
    // Sent is final.
    let poh_token = app.api_token(&poh).await;
    let r = app
        .api(&poh_token, Method::PUT, &format!("/api/v1/feedback/{id}"))
        .json(&json!({"summary": "anders", "advice": ""}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(app.audit_count("send", "feedback_report").await == 1);
}

#[tokio::test]
async fn a_trajectory_exports_as_a_fhir_bundle_for_its_team_only() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let trajectory = demo_trajectory(&app, "Bram de Graaf").await;
    let poh = app.demo_user("poh@medi-stad.example").await;
    let token = app.api_token(&poh).await;
    let r = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/trajectories/{trajectory}/fhir"),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("application/fhir+json")
    );
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["resourceType"], "Bundle");
    let entries = b["entry"].as_array().expect("entries");
    let of = |t: &str| {
        entries
            .iter()
            .filter(|e| e["resource"]["resourceType"] == t)
            .count()
    };
    assert_eq!(of("ServiceRequest"), 1);
    assert_eq!(
        of("QuestionnaireResponse"),
        6,
        "baseline and week 5, three instruments"
    );
    assert_eq!(of("Observation"), 6);
    let text = b.to_string();
    assert!(text.contains("44261-6") && text.contains("70274-6"));
    for who in ["huisarts@medi-stad.example", "zorginkoop@zuiderzee.example"] {
        let u = app.demo_user(who).await;
        let t = app.api_token(&u).await;
        assert_eq!(
            app.api(
                &t,
                Method::GET,
                &format!("/api/v1/trajectories/{trajectory}/fhir")
            )
            .send()
            .await
            .expect("req")
            .status(),
            StatusCode::NOT_FOUND,
            "{who}"
        );
    }
    assert!(app.audit_count("export", "trajectory").await == 1);
}

#[tokio::test]
async fn coordinators_see_the_impact_report_and_funders_only_suppressed_aggregates() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let coord = app.demo_user("praktijkmanager@medi-stad.example").await;
    let client = app.session_for(&coord).await;
    let html = app.html(&client, "/reports").await;
    assert!(
        html.contains("id=\"impact\"") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("Medi-Stad"));
    let html = app.html(&client, "/reports?by=therapist").await;
    assert!(html.contains("Therapeut"));
    let csv = app.html(&client, "/reports/export.csv?by=offering").await;
    assert!(
        csv.contains("Aanbod,Verwezen,Intake") && csv.contains("donderdaggroep"),
        "{csv}"
    );
    let xlsx = app
        .get(&client, "/reports/export.xlsx")
        .await
        .bytes()
        .await
        .expect("body");
    assert!(xlsx.starts_with(b"PK"), "a zip");
    let org = coord_org(&app).await;
    let token = app.api_token(&coord).await;
    let v: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/reports/impact?org={org}&by=offering"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let group = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| {
            r["label"]
                .as_str()
                .is_some_and(|l| l.contains("donderdaggroep"))
        })
        .expect("the running group")
        .clone();
    // Five started, and one was found not suitable (the demo's closed referral).
    assert_eq!(group["referred"], 6);
    assert_eq!(group["started"], 5);
    assert!(group["median_days_to_start"].is_number() && group["attendance_rate"].is_number());
    // The first start the store keeps per referral is that of its events, for every referral.
    let (differ,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM referrals r WHERE COALESCE(r.started_at, -1) <> \
         COALESCE((SELECT MIN(e.at) FROM referral_events e \
                   WHERE e.referral_id = r.id AND e.to_status = 'started'), -1)",
    )
    .fetch_one(&mut *app.conn().await)
    .await
    .expect("query");
    assert_eq!(differ, 0);
    let phq9 = group["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .find(|o| o["instrument"] == "phq9")
        .expect("phq9")
        .clone();
    assert_eq!(phq9["stats"]["n"], 4, "four with a week-5 score: {phq9}");
    // 15→7, 18→12, 11→5, 19→17 (16 plus the item-9 answer): mean change −5.5.
    assert_eq!(phq9["stats"]["mean_change"], -5.5);
    // The insurer funds GP-module referrals: five people, so every cell is suppressed.
    let funder = app.demo_user("zorginkoop@zuiderzee.example").await;
    let ft = app.api_token(&funder).await;
    let insurer = user_org(&app, "zorginkoop@zuiderzee.example").await;
    let r = app
        .api(
            &ft,
            Method::GET,
            &format!("/api/v1/reports/impact?org={insurer}"),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["suppressed"], true);
    assert!(v["total"]["referred"].is_null(), "5 < 10: {v}");
    let text = v.to_string();
    assert!(
        !text.contains("Anouk") && !text.contains("deelnemer") && v["dropout_reasons"] == json!([])
    );
    // A funder never reaches the coordinator's report, nor a participant's record.
    let r = app
        .api(
            &ft,
            Method::GET,
            &format!("/api/v1/reports/impact?org={org}"),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let trajectory = demo_trajectory(&app, "Anouk Smit").await;
    for path in [
        format!("/api/v1/trajectories/{trajectory}"),
        format!("/api/v1/trajectories/{trajectory}/measurements"),
    ] {
        assert_eq!(
            app.api(&ft, Method::GET, &path)
                .send()
                .await
                .expect("req")
                .status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert!(app.audit_count("search", "impact_report").await >= 4);
}

pub async fn user_org(app: &TestApp, email: &str) -> String {
    let (org,): (String,) = sqlx::query_as(
        "SELECT m.org_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("org");
    org
}

async fn coord_org(app: &TestApp) -> String {
    user_org(app, "praktijkmanager@medi-stad.example").await
}
