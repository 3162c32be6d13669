//! Pseudonymised research exports (SPEC C12): a coordinator downloads one row per referral
//! that reached intake, with a pseudonym per study and coarsened values instead of anything
//! that points at a person; nobody else may; every included record is in the audit log.

use std::io::Read;

use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::{Practice, medi_stad, offering_in, referral_to, trajectory_for},
    helpers::{TestApp, TestUser},
};

const PURPOSE: &str = "Evaluatie van het effect op somberheid (promotieonderzoek)";

/// Marks a referral with details that must never reach an export.
async fn identify(app: &TestApp, trajectory: &str, marker: &str) {
    sqlx::query(
        "UPDATE referrals SET client_name = $1, client_email = $2, client_phone = $3, \
         client_postcode = $4, medication = $5, note = $6 \
         WHERE id = (SELECT referral_id FROM trajectories WHERE id = $7)",
    )
    .bind(format!("Anna {marker}naam"))
    .bind(format!("{marker}@voorbeeld.nl"))
    .bind("0612349876")
    .bind("8232 XY")
    .bind(format!("{marker}-medicatie"))
    .bind(format!("{marker}-notitie"))
    .bind(trajectory)
    .execute(&app.state.db.pool)
    .await
    .expect("identify");
    sqlx::query("UPDATE trajectories SET start_date = '2026-11-03' WHERE id = $1")
        .bind(trajectory)
        .execute(&app.state.db.pool)
        .await
        .expect("start");
}

/// A score on one instrument at one of the trajectory's scheduled measurements, `day` days
/// after the start (3 November 2026), written directly (the questionnaire flow has its own
/// tests).
async fn score(
    app: &TestApp,
    trajectory: &str,
    point: &str,
    instrument: &str,
    total: f64,
    day: i64,
) {
    let measurement = {
        let mut c = app.conn().await;
        duurloop::store::measure::of_trajectory(&mut c, trajectory)
            .await
            .expect("measurements")
            .into_iter()
            .find(|m| m.point == point)
            .expect("scheduled point")
            .id
    };
    let start = duurloop::clock::parse_local_date("2026-11-03").expect("date");
    sqlx::query(
        "INSERT INTO measurement_scores (measurement_id, trajectory_id, instrument, point, \
         total, raw, band, prorated, scored_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, $7)",
    )
    .bind(&measurement)
    .bind(trajectory)
    .bind(instrument)
    .bind(point)
    .bind(total)
    .bind(total as i64)
    .bind(start + day * 86_400_000 + 3_600_000)
    .execute(&app.state.db.pool)
    .await
    .expect("score");
}

async fn referral_of(app: &TestApp, trajectory: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT referral_id FROM trajectories WHERE id = $1")
        .bind(trajectory)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("referral");
    id
}

/// The practice with a coordinator, two participants who reached intake (one with scores),
/// and a referral still waiting for its intake.
struct Study {
    practice: Practice,
    coordinator: TestUser,
    measured: String,
    unmeasured: String,
    waiting: String,
}

async fn study(app: &TestApp) -> Study {
    let practice = medi_stad(app).await;
    let coordinator = app
        .user(
            "coordinator@medi-stad.example",
            false,
            &[(&practice.org, Role::Coordinator)],
            true,
        )
        .await;
    let measured = trajectory_for(
        app,
        &practice.offering,
        &practice.referrer,
        &practice.therapist,
    )
    .await;
    let unmeasured = trajectory_for(
        app,
        &practice.offering,
        &practice.referrer,
        &practice.therapist,
    )
    .await;
    identify(app, &measured, "uniekeanna").await;
    identify(app, &unmeasured, "uniekebob").await;
    score(app, &measured, "baseline", "phq9", 18.0, -2).await;
    score(app, &measured, "baseline", "gad7", 12.0, -2).await;
    score(app, &measured, "week5", "phq9", 9.0, 36).await;
    let waiting = referral_to(app, &practice.offering, &practice.referrer).await;
    Study {
        practice,
        coordinator,
        measured,
        unmeasured,
        waiting,
    }
}

/// Posts an export over the API.
async fn api_export(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.api(token, Method::POST, "/api/v1/research/export")
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// The CSV's header and rows as maps (no field in these tests holds a comma or quote).
fn rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = csv.trim_start_matches('\u{feff}').split("\r\n");
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_coordinator_downloads_one_pseudonymous_row_per_participant_with_their_scores() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let client = app.session_for(&s.coordinator).await;
    // Reachable from the reports page, with the form and the codebook.
    let reports = app.html(&client, "/reports").await;
    assert!(reports.contains("href=\"/reports/research\""), "{reports}");
    let page = app.html(&client, "/reports/research").await;
    assert!(
        page.contains("Studiecode") && page.contains("id=\"codebook\""),
        "{page}"
    );
    let r = app
        .post_form(
            &client,
            "/reports/research",
            &[
                ("org", s.practice.org.as_str()),
                ("study", "loop-2026"),
                ("purpose", PURPOSE),
                ("format", "csv"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv")
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .expect("name")
        .to_string();
    assert!(
        disposition.contains("duurloop-onderzoek-LOOP-2026-"),
        "{disposition}"
    );
    let bytes = r.bytes().await.expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let table = rows(&text);
    assert_eq!(
        table.len(),
        2,
        "the two who reached intake, not the waiting one: {text}"
    );
    let pseudonym = |t: &str| app.state.secret_key.pseudonym("LOOP-2026", t);
    let measured_referral = referral_of(&app, &s.measured).await;
    let unmeasured_referral = referral_of(&app, &s.unmeasured).await;
    let row = table
        .iter()
        .find(|r| r["pseudonym"] == pseudonym(&measured_referral))
        .expect("the measured participant's row");
    let month = duurloop::clock::local_month(app.state.now());
    for (column, value) in [
        ("practice", "Medi-Stad"),
        ("offering_kind", "running_group"),
        ("source", "professional"),
        ("funding_route", "insurer"),
        ("indications", "stress"),
        ("age_band", "40-49"),
        ("referral_month", month.as_str()),
        ("status", "accepted"),
        ("sessions_recorded", "0"),
        ("baseline_day", "-2"),
        ("phq9_baseline", "18"),
        ("gad7_baseline", "12"),
        ("week5_day", "36"),
        ("phq9_week5", "9"),
        ("gad7_week5", ""),
        ("days_to_start", ""),
    ] {
        assert_eq!(
            row.get(column).map(String::as_str),
            Some(value),
            "{column} in {text}"
        );
    }
    let other = table
        .iter()
        .find(|r| r["pseudonym"] == pseudonym(&unmeasured_referral))
        .expect("the other participant's row");
    assert_eq!(other["phq9_baseline"], "");
    assert_eq!(other["baseline_day"], "");
    // Nothing that points at a person or a record.
    let waiting = s.waiting.clone();
    for secret in [
        "uniekeanna",
        "uniekebob",
        "Anna",
        "voorbeeld.nl",
        "0612349876",
        "8232",
        "medicatie",
        "notitie",
        "Jan Jansen",
        "2026-11-03",
        measured_referral.as_str(),
        unmeasured_referral.as_str(),
        s.measured.as_str(),
        s.unmeasured.as_str(),
        waiting.as_str(),
        s.practice.org.as_str(),
        s.practice.offering.as_str(),
        s.practice.therapist.id.as_str(),
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the export contains {secret}: {text}"
        );
    }
    // Audit: the export with its purpose, and every included record, in the same breath.
    assert_eq!(app.audit_count("export", "research_export").await, 1);
    for referral in [&measured_referral, &unmeasured_referral] {
        assert_eq!(app.audit_count_of("export", "referral", referral).await, 1);
    }
    assert_eq!(
        app.audit_count_of("export", "referral", &s.waiting).await,
        0
    );
    let (reason, role): (String, String) = sqlx::query_as(
        "SELECT reason, actor_role FROM audit_log WHERE action = 'export' AND record_id = $1",
    )
    .bind(&measured_referral)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("entry");
    assert_eq!(reason, format!("LOOP-2026: {PURPOSE}"));
    assert_eq!(role, "coordinator");
}

#[tokio::test]
async fn pseudonyms_stay_the_same_within_a_study_and_differ_between_studies() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let token = app.api_token(&s.coordinator).await;
    let mut exports = Vec::new();
    for study in ["STUDIE-A", "studie-a", "STUDIE-B"] {
        let r = api_export(
            &app,
            &token,
            json!({ "org": s.practice.org, "study": study, "purpose": PURPOSE }),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut p: Vec<String> = rows(&r.text().await.expect("body"))
            .into_iter()
            .map(|r| r["pseudonym"].clone())
            .collect();
        p.sort();
        assert_eq!(p.len(), 2);
        assert_ne!(p[0], p[1], "two participants, two pseudonyms");
        exports.push(p);
    }
    assert_eq!(
        exports[0], exports[1],
        "same study (case does not matter), same pseudonyms"
    );
    assert!(
        exports[2].iter().all(|p| !exports[0].contains(p)),
        "another study cannot be linked: {exports:?}"
    );
    // Every export is logged, each with its own entries per record.
    let referral = referral_of(&app, &s.measured).await;
    assert_eq!(app.audit_count_of("export", "referral", &referral).await, 3);
}

#[tokio::test]
async fn the_api_gives_an_xlsx_with_the_data_and_the_codebook() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let token = app.api_token(&s.coordinator).await;
    let r = api_export(
        &app,
        &token,
        json!({ "org": s.practice.org, "study": "LOOP", "purpose": PURPOSE, "format": "xlsx",
                "from": "2020-01-01" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = r.bytes().await.expect("body");
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip");
    let mut read = |name: &str| {
        let mut s = String::new();
        z.by_name(name)
            .expect("part")
            .read_to_string(&mut s)
            .expect("read");
        s
    };
    let data = read("xl/worksheets/sheet1.xml");
    let referral = referral_of(&app, &s.measured).await;
    assert!(data.contains(&app.state.secret_key.pseudonym("LOOP", &referral)));
    assert!(data.contains("phq9_week5") && !data.contains("uniekeanna"));
    let codebook = read("xl/worksheets/sheet2.xml");
    assert!(
        codebook.contains("age_band") && codebook.contains("Pseudoniem"),
        "{codebook}"
    );
}

#[tokio::test]
async fn without_a_study_code_and_purpose_nothing_is_exported() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let token = app.api_token(&s.coordinator).await;
    let r = app
        .api(&token, Method::POST, "/api/v1/research/export")
        .header("accept-language", "en")
        .json(&json!({ "org": s.practice.org, "study": "", "purpose": "kort" }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.expect("json");
    let fields = &body["error"]["fields"];
    assert!(fields["study"].is_string(), "{body}");
    assert!(fields["purpose"].is_string(), "{body}");
    assert!(
        fields["purpose"]
            .as_str()
            .unwrap_or_default()
            .contains("at least 10"),
        "{body}"
    );
    let r = api_export(
        &app,
        &token,
        json!({ "org": s.practice.org, "study": "S/1", "purpose": PURPOSE, "format": "pdf",
                "from": "2026-12-01", "to": "2026-01-01" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.expect("json");
    for field in ["study", "format", "from"] {
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    // The page shows the form again in Dutch, with the messages.
    let client = app.session_for(&s.coordinator).await;
    let r = app
        .post_form(
            &client,
            "/reports/research",
            &[
                ("org", s.practice.org.as_str()),
                ("study", ""),
                ("purpose", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(html.contains("Vul een studiecode in"), "{html}");
    assert!(html.contains("Beschrijf het doel"), "{html}");
    assert_eq!(app.audit_count("export", "research_export").await, 0);
    assert_eq!(app.audit_count("export", "referral").await, 0);
}

#[tokio::test]
async fn therapists_referrers_funders_participants_and_other_coordinators_are_refused() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let org = s.practice.org.clone();
    let funder = app
        .user(
            "zorgverzekeraar@x.example",
            false,
            &[(&org, Role::Funder)],
            false,
        )
        .await;
    let participant = app
        .user(
            "deelnemer@x.example",
            false,
            &[(&org, Role::Participant)],
            false,
        )
        .await;
    let elders = app.org("Elders", OrgKind::GpPractice).await;
    let other = app
        .user(
            "coord@elders.example",
            false,
            &[(&elders, Role::Coordinator)],
            true,
        )
        .await;
    let admin = app.user("beheer@x.example", true, &[], true).await;
    let body = json!({ "org": org, "study": "LOOP", "purpose": PURPOSE });
    for who in [
        &s.practice.therapist,
        &s.practice.referrer,
        &funder,
        &participant,
        &other,
        &admin,
    ] {
        let token = app.api_token(who).await;
        let r = api_export(&app, &token, body.clone()).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{} over the API",
            who.email
        );
        let client = app.session_for(who).await;
        let r = app
            .post_form(
                &client,
                "/reports/research",
                &[
                    ("org", org.as_str()),
                    ("study", "LOOP"),
                    ("purpose", PURPOSE),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{} on the page",
            who.email
        );
    }
    assert_eq!(app.audit_count("export", "referral").await, 0);
}

#[tokio::test]
async fn referrals_sent_to_another_provider_are_that_provider_s_to_export() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    // Medi-Stad's GP refers someone to a running therapist elsewhere.
    let elders = app
        .org("Runningtherapie Elders", OrgKind::TherapistPractice)
        .await;
    let therapist = app
        .user(
            "therapeut@elders.example",
            false,
            &[(&elders, Role::Therapist)],
            true,
        )
        .await;
    let coordinator = app
        .user(
            "coord@elders.example",
            false,
            &[(&elders, Role::Coordinator)],
            true,
        )
        .await;
    let (_, offering) = offering_in(&app, &elders, &therapist.id).await;
    let elsewhere = trajectory_for(&app, &offering, &s.practice.referrer, &therapist).await;
    let referral = referral_of(&app, &elsewhere).await;
    let (referrer_org,): (Option<String>,) =
        sqlx::query_as("SELECT referrer_org_id FROM referrals WHERE id = $1")
            .bind(&referral)
            .fetch_one(&app.state.db.pool)
            .await
            .expect("referral");
    assert_eq!(
        referrer_org.as_deref(),
        Some(s.practice.org.as_str()),
        "a Medi-Stad referral"
    );
    let body = |org: &str| json!({ "org": org, "study": "LOOP", "purpose": PURPOSE });
    let medi_stad = app.api_token(&s.coordinator).await;
    let r = api_export(&app, &medi_stad, body(&s.practice.org)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let table = rows(&r.text().await.expect("body"));
    let pseudonym = app.state.secret_key.pseudonym("LOOP", &referral);
    assert_eq!(table.len(), 2, "only the referrals Medi-Stad handles");
    assert!(table.iter().all(|r| r["pseudonym"] != pseudonym));
    assert_eq!(app.audit_count_of("export", "referral", &referral).await, 0);
    let token = app.api_token(&coordinator).await;
    let r = api_export(&app, &token, body(&elders)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let table = rows(&r.text().await.expect("body"));
    assert_eq!(table.len(), 1);
    assert_eq!(table[0]["pseudonym"], pseudonym);
    assert_eq!(app.audit_count_of("export", "referral", &referral).await, 1);
}

#[tokio::test]
async fn a_participant_whose_data_was_erased_is_left_out() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let erased = referral_of(&app, &s.unmeasured).await;
    sqlx::query("UPDATE referrals SET erased_at = $1 WHERE id = $2")
        .bind(app.state.now())
        .bind(&erased)
        .execute(&app.state.db.pool)
        .await
        .expect("erase");
    let token = app.api_token(&s.coordinator).await;
    let r = api_export(
        &app,
        &token,
        json!({ "org": s.practice.org, "study": "LOOP", "purpose": PURPOSE }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let table = rows(&r.text().await.expect("body"));
    assert_eq!(table.len(), 1);
    let kept = referral_of(&app, &s.measured).await;
    assert_eq!(
        table[0]["pseudonym"],
        app.state.secret_key.pseudonym("LOOP", &kept)
    );
    assert_eq!(app.audit_count_of("export", "referral", &erased).await, 0);
}

/// A participant who objects to research use, in the portal or through their therapist, is
/// left out of every research export, scores included, until the objection is withdrawn
/// (WGBO art. 7:458); the referrer may not record it; every look and change is audit-logged.
#[tokio::test]
async fn a_participant_who_objects_to_research_use_is_left_out_of_the_export() {
    let app = TestApp::spawn().await;
    let s = study(&app).await;
    let token = app.api_token(&s.coordinator).await;
    let export = || async {
        let r = api_export(
            &app,
            &token,
            json!({"org": s.practice.org, "study": "loop-2026", "purpose": PURPOSE}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.expect("csv")
    };
    assert_eq!(rows(&export().await).len(), 2, "both who reached intake");

    // In the portal: the measured participant objects.
    let anna = "uniekeanna@voorbeeld.nl";
    let browser = app.portal_browser(anna).await;
    let home = app.html(&browser, "/portal").await;
    assert!(home.contains("href=\"/portal/onderzoek\""), "{home}");
    let page = app.html(&browser, "/portal/onderzoek").await;
    assert!(page.contains("U heeft geen bezwaar gemaakt"), "{page}");
    let r = app
        .post_form(&browser, "/portal/onderzoek", &[("objects", "yes")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app.html(&browser, "/portal/onderzoek").await;
    assert!(page.contains("uw gegevens worden niet meer"), "{page}");
    let csv = export().await;
    assert_eq!(rows(&csv).len(), 1, "{csv}");
    assert!(!csv.contains("phq9"), "her scores went with her: {csv}");

    // Her therapist sees it on the referral page; the referrer may not change it.
    let anna_referral = referral_of(&app, &s.measured).await;
    let therapist = app.session_for(&s.practice.therapist).await;
    let page = app
        .html(&therapist, &format!("/referrals/{anna_referral}"))
        .await;
    assert!(
        page.contains("id=\"research-objection\"")
            && page.contains("staat in geen enkele onderzoeksexport"),
        "{page}"
    );
    let referrer = app.api_token(&s.practice.referrer).await;
    let r = app
        .api(
            &referrer,
            Method::PUT,
            &format!("/api/v1/referrals/{anna_referral}/research-objection"),
        )
        .json(&json!({"objects": false}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Over the API she withdraws it, and is in the export again.
    let portal = app.portal_api_session(anna).await;
    let v = app
        .get_json(&portal, "/api/v1/portal/research-objection")
        .await;
    assert_eq!(v["objects"], true);
    assert!(v["since"].is_i64(), "{v}");
    let v: Value = app
        .api(&portal, Method::PUT, "/api/v1/portal/research-objection")
        .json(&json!({"objects": false}))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(v, json!({"objects": false, "since": null}));
    assert_eq!(rows(&export().await).len(), 2);

    // The other participant told his therapist on the phone: recorded on the referral page.
    let bob_referral = referral_of(&app, &s.unmeasured).await;
    let r = app
        .post_form(
            &therapist,
            &format!("/referrals/{bob_referral}/research-objection"),
            &[("objects", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let csv = export().await;
    assert_eq!(rows(&csv).len(), 1);
    assert!(csv.contains("phq9"), "only Anna, with her scores: {csv}");
    let v = app
        .get_json(&token, &format!("/api/v1/referrals/{bob_referral}"))
        .await;
    assert!(v["referral"]["research_objection_at"].is_i64(), "{v}");

    // Two looks at the portal page and one through the API.
    for (action, n) in [("create", 2), ("delete", 1), ("read", 3)] {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log \
             WHERE record_type = 'research_objection' AND action = $1 AND outcome = 'ok'",
        )
        .bind(action)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
        assert_eq!(count, n, "{action}");
    }
}
