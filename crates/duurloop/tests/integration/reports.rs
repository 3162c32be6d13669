//! Closing the loop: the feedback report to the referrer, the FHIR export, and impact
//! reports for coordinators and (suppressed) for funders.

use duurloop::{cli::demo, store};
use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

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
    assert_eq!(
        app.audit_count_outcome("export", "trajectory", "ok").await,
        1
    );
    assert_eq!(
        app.audit_count_outcome("export", "trajectory", "denied")
            .await,
        2,
        "the refused exports are logged too"
    );
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
    // The insurer funds four of the group's five (the fifth is the municipality's): fewer
    // than 10, so every cell is suppressed.
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

/// A group at `org` with room for everyone (the helper's offering takes 8).
pub(crate) async fn roomy_group(app: &TestApp, org: &str, therapist: &TestUser) -> String {
    let (_, offering) = crate::authz::offering_in(app, org, &therapist.id).await;
    sqlx::query("UPDATE offerings SET capacity = 100 WHERE id = $1")
        .bind(&offering)
        .execute(&mut *app.conn().await)
        .await
        .expect("capacity");
    offering
}

/// `n` accepted referrals to `offering` (through the real actions, all declaring the
/// `insurer` funding route), each trajectory funded by `contracts` in this order.
pub(crate) async fn funded(
    app: &TestApp,
    offering: &str,
    referrer: &TestUser,
    therapist: &TestUser,
    n: usize,
    contracts: &[&str],
) {
    let contracts: Vec<String> = contracts.iter().map(|c| c.to_string()).collect();
    for _ in 0..n {
        let t = crate::authz::trajectory_for(app, offering, referrer, therapist).await;
        store::funding::set_funding(&mut *app.conn().await, &t, &contracts)
            .await
            .expect("funding");
    }
}

/// A payer recorded by `org` standing for `funder_org`, with one contract per name.
pub(crate) async fn contracts_of(
    app: &TestApp,
    org: &str,
    funder_org: &str,
    names: &[&str],
) -> Vec<String> {
    let now = app.state.now();
    let mut c = app.conn().await;
    let payer = store::funding::insert_payer(
        &mut c,
        &store::funding::NewPayer {
            org_id: org,
            kind: "insurer",
            name: "Verzekeraar",
            funder_org_id: Some(funder_org),
            reference: "",
            address: "",
            email: "",
        },
        now,
    )
    .await
    .expect("payer");
    let mut out = Vec::new();
    for name in names {
        let contract = store::funding::NewContract {
            payer_id: &payer,
            name,
            valid_from: "2026-01-01",
            valid_to: None,
            max_sessions: None,
            max_weeks: None,
            budget_cents: None,
            tariffs: &[("group_session", 1_500)],
        };
        out.push(
            store::funding::insert_contract(&mut c, &contract, now)
                .await
                .expect("contract"),
        );
    }
    out
}

/// The counts of a report row as the page shows them (`<10` escaped as askama writes it).
fn counts(row: &Value) -> Vec<String> {
    let keys = [
        "referred",
        "intake",
        "started",
        "completed",
        "follow_up",
        "dropped_out",
    ];
    keys.iter()
        .map(|k| match row[*k].as_u64() {
            Some(n) => n.to_string(),
            None => "&#60;10".to_string(),
        })
        .collect()
}

/// The first six cells of the page's total row.
fn page_total_counts(html: &str) -> Vec<String> {
    let row = html
        .split("<tr class=\"total\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("a total row");
    row.split("<td>")
        .skip(1)
        .take(6)
        .map(|c| c.split("</td>").next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn two_insurers_each_see_exactly_the_people_they_fund_whatever_route_was_declared() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let coord = app
        .user("coord@x.example", false, &[(&org, Role::Coordinator)], true)
        .await;
    let therapist = app
        .user("poh@x.example", false, &[(&org, Role::Therapist)], true)
        .await;
    let referrer = app
        .user("huisarts@x.example", false, &[(&org, Role::Referrer)], true)
        .await;
    let offering = roomy_group(&app, &org, &therapist).await;
    let a = app.org("Zuiderzee", OrgKind::Insurer).await;
    let b = app.org("Noorderlicht", OrgKind::Insurer).await;
    let funder_a = app
        .user(
            "inkoop@zuiderzee.example",
            false,
            &[(&a, Role::Funder)],
            true,
        )
        .await;
    let funder_b = app
        .user(
            "inkoop@noorderlicht.example",
            false,
            &[(&b, Role::Funder)],
            true,
        )
        .await;
    let a_contracts = contracts_of(&app, &org, &a, &["Consult", "Module"]).await;
    let b_contracts = contracts_of(&app, &org, &b, &["Module"]).await;
    // Zuiderzee funds 12 (7 of them through both its contracts: still 7 people), Noorderlicht
    // 10, and 3 have no funding at all; every referral declared the `insurer` route.
    funded(
        &app,
        &offering,
        &referrer,
        &therapist,
        7,
        &[&a_contracts[0], &a_contracts[1]],
    )
    .await;
    funded(
        &app,
        &offering,
        &referrer,
        &therapist,
        5,
        &[&a_contracts[1]],
    )
    .await;
    funded(
        &app,
        &offering,
        &referrer,
        &therapist,
        10,
        &[&b_contracts[0]],
    )
    .await;
    funded(&app, &offering, &referrer, &therapist, 3, &[]).await;
    for (funder, funder_org, people, contracts) in [(&funder_a, &a, 12, 2), (&funder_b, &b, 10, 1)]
    {
        let token = app.api_token(funder).await;
        let client = app.session_for(funder).await;
        for by in [
            "practice",
            "therapist",
            "offering",
            "region",
            "indication",
            "referrer",
            "month",
        ] {
            let path = format!("reports/impact?org={funder_org}&by={by}");
            let v = app.get_json(&token, &format!("/api/v1/{path}")).await;
            assert_eq!(v["suppressed"], true);
            assert_eq!(v["contracts"], contracts, "{v}");
            assert_eq!(v["total"]["referred"], people, "{by}: {v}");
            assert_eq!(v["total"]["intake"], people, "{by}: {v}");
            assert!(v["total"]["started"].is_null(), "none started: {v}");
            // The page (and its chart) and the downloads count the same people.
            let html = app
                .html(&client, &format!("/reports?org={funder_org}&by={by}"))
                .await;
            assert_eq!(page_total_counts(&html), counts(&v["total"]), "{by}");
            assert!(
                html.contains(&format!(">{people}</text>")),
                "the funnel chart"
            );
            assert!(!html.contains("id=\"no-contracts\""));
            let csv = app
                .html(
                    &client,
                    &format!("/reports/export.csv?org={funder_org}&by={by}"),
                )
                .await;
            assert!(
                csv.contains(&format!("Totaal,{people},{people},<10")),
                "{csv}"
            );
        }
        let xlsx = app
            .get(&client, &format!("/reports/export.xlsx?org={funder_org}"))
            .await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        assert!(xlsx.bytes().await.expect("body").starts_with(b"PK"));
        // One group (the offering, the practice) holds everyone: shown as well.
        let v = app
            .get_json(&token, &format!("/api/v1/reports/impact?org={funder_org}"))
            .await;
        let rows = v["rows"].as_array().expect("rows");
        assert!(rows.len() == 1 && rows[0]["referred"] == people, "{v}");
    }
    // The coordinator still sees all 25 of the practice.
    let v = app
        .get_json(
            &app.api_token(&coord).await,
            &format!("/api/v1/reports/impact?org={org}"),
        )
        .await;
    assert_eq!(v["total"]["referred"], 25, "{v}");
    assert_eq!(v["contracts"], Value::Null);
    assert_eq!(v["suppressed"], false);
}

#[tokio::test]
async fn the_demo_municipality_counts_the_participant_it_pays_for_and_the_insurer_its_four() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let noordwijk = user_org(&app, "welzijn@noordwijk.example").await;
    let zuiderzee = user_org(&app, "zorginkoop@zuiderzee.example").await;
    let (from, to) = (
        app.state.now() - 365 * 86_400_000,
        app.state.now() + 86_400_000,
    );
    // Counted in the store, below the suppression: the municipality pays for the running
    // group's last participant (her referral declared `gp_module`), the insurer for the others.
    for (funder, people) in [(&noordwijk, 1), (&zuiderzee, 4)] {
        let mut c = app.conn().await;
        let rows = store::reports::funnel(
            &mut c,
            from,
            to,
            &store::reports::Scope::FundedBy(funder),
            &store::reports::GroupKey::Practice,
        )
        .await
        .expect("funnel");
        assert_eq!(rows.iter().map(|r| r.referrals).sum::<u64>(), people);
    }
    // Through the app: suppressed (1 < 10), until nine more of its people make it ten.
    let funder = app.demo_user("welzijn@noordwijk.example").await;
    let token = app.api_token(&funder).await;
    let path = format!("/api/v1/reports/impact?org={noordwijk}");
    let v = app.get_json(&token, &path).await;
    assert!(
        v["total"]["referred"].is_null() && v["contracts"] == 1,
        "{v}"
    );
    let (deal,): (String,) =
        sqlx::query_as("SELECT id FROM contracts WHERE name LIKE 'Extraatje voor je welzijn%'")
            .fetch_one(&mut *app.conn().await)
            .await
            .expect("the municipality deal");
    let medi_stad = coord_org(&app).await;
    let poh = app.demo_user("poh@medi-stad.example").await;
    let gp = app.demo_user("huisarts@medi-stad.example").await;
    let offering = roomy_group(&app, &medi_stad, &poh).await;
    funded(&app, &offering, &gp, &poh, 9, &[&deal]).await;
    let v = app.get_json(&token, &path).await;
    assert_eq!(v["total"]["referred"], 10, "{v}");
    assert_eq!(v["total"]["intake"], 10, "{v}");
    let text = v.to_string();
    assert!(!text.contains("Jan Jansen") && v["dropout_reasons"] == json!([]));
}

#[tokio::test]
async fn a_funder_without_contracts_gets_an_empty_report_that_says_why() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    // An employer that funds nothing here yet, and a funder member of a GP practice (no
    // funding route of its kind): both open their own (empty) report.
    let employer = app.org("Bouwbedrijf De Vries", OrgKind::Employer).await;
    let medi_stad = coord_org(&app).await;
    for (email, org) in [
        ("hr@devries.example", &employer),
        ("financier@medi-stad.example", &medi_stad),
    ] {
        let funder = app.user(email, false, &[(org, Role::Funder)], false).await;
        let token = app.api_token(&funder).await;
        let r = app
            .api(
                &token,
                Method::GET,
                &format!("/api/v1/reports/impact?org={org}&by=month"),
            )
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::OK, "{email}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["contracts"], 0, "{v}");
        assert_eq!(v["suppressed"], true);
        assert!(v["total"]["referred"].is_null(), "{v}");
        assert!(
            v["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .all(|r| r["referred"].is_null()),
            "{v}"
        );
        let client = app.session_for(&funder).await;
        let html = app.html(&client, "/reports").await;
        assert!(
            html.contains("id=\"no-contracts\"")
                && html.contains("Nog geen zorgaanbieder heeft in Duurloop een contract"),
            "{html}"
        );
        assert_eq!(
            app.get(&client, "/reports/export.csv").await.status(),
            StatusCode::OK
        );
    }
}

/// A practice with its therapist, GP and roomy group, a nurse of another practice who refers to
/// it too, and an insurer (with its funder) that funds the group under one contract.
struct TwoReferrers {
    org: String,
    therapist: TestUser,
    gp: TestUser,
    nurse: TestUser,
    offering: String,
    insurer: String,
    funder: TestUser,
    contract: String,
}

async fn two_referrers_and_a_funder(app: &TestApp) -> TwoReferrers {
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let therapist = app
        .user("poh@x.example", false, &[(&org, Role::Therapist)], true)
        .await;
    let gp = app
        .user("huisarts@x.example", false, &[(&org, Role::Referrer)], true)
        .await;
    let other = app.org("Huisartsen Oost", OrgKind::GpPractice).await;
    let nurse = app
        .user(
            "poh-ggz@oost.example",
            false,
            &[(&other, Role::Referrer)],
            true,
        )
        .await;
    let offering = roomy_group(app, &org, &therapist).await;
    let insurer = app.org("Zuiderzee", OrgKind::Insurer).await;
    let funder = app
        .user(
            "inkoop@zuiderzee.example",
            false,
            &[(&insurer, Role::Funder)],
            true,
        )
        .await;
    let contract = contracts_of(app, &org, &insurer, &["Module"]).await;
    TwoReferrers {
        org,
        therapist,
        gp,
        nurse,
        offering,
        insurer,
        funder,
        contract: contract[0].clone(),
    }
}

/// A new coordinator of `org`, and the impact report by referrer as they get it from the API.
async fn coordinator_by_referrer(app: &TestApp, org: &str) -> (TestUser, Value) {
    let coord = app
        .user("coord@x.example", false, &[(org, Role::Coordinator)], true)
        .await;
    let v = app
        .get_json(
            &app.api_token(&coord).await,
            &format!("/api/v1/reports/impact?org={org}&by=referrer"),
        )
        .await;
    (coord, v)
}

/// A funder cannot work out a hidden group as the total minus the shown groups (complementary
/// suppression), nor a day's referrals from two reports a day apart (whole months only).
#[tokio::test]
async fn a_funder_cannot_subtract_its_way_to_a_hidden_group_or_a_single_day() {
    let app = TestApp::spawn().await;
    let TwoReferrers {
        org,
        therapist,
        gp,
        nurse,
        offering,
        insurer,
        funder,
        contract,
    } = two_referrers_and_a_funder(&app).await;
    // Twelve people from the practice's GP, three from another practice: fifteen in all.
    funded(&app, &offering, &gp, &therapist, 12, &[&contract]).await;
    funded(&app, &offering, &nurse, &therapist, 3, &[&contract]).await;
    let token = app.api_token(&funder).await;
    let v = app
        .get_json(
            &token,
            &format!("/api/v1/reports/impact?org={insurer}&by=referrer"),
        )
        .await;
    assert_eq!(v["total"]["referred"], 15, "{v}");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{v}");
    assert!(
        rows.iter()
            .all(|r| r["referred"].is_null() && r["intake"].is_null()),
        "12 shown beside a total of 15 would give away the 3: {v}"
    );
    // The coordinator sees both groups (those sent by its own referrers and to its offering).
    let (coord, v) = coordinator_by_referrer(&app, &org).await;
    let mut shown: Vec<i64> = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["referred"].as_i64().expect("shown"))
        .collect();
    shown.sort();
    assert_eq!(shown, [3, 12]);
    // Days are widened to whole months for the funder, not for the coordinator.
    let v = app
        .get_json(
            &token,
            &format!("/api/v1/reports/impact?org={insurer}&from=2026-03-15&to=2026-04-10"),
        )
        .await;
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-03-01"), Some("2026-04-30"))
    );
    let v = app
        .get_json(
            &app.api_token(&coord).await,
            &format!("/api/v1/reports/impact?org={org}&from=2026-03-15&to=2026-04-10"),
        )
        .await;
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-03-15"), Some("2026-04-10"))
    );
}

/// Nor a hidden group's outcome: with the total's people and mean change shown, one hidden
/// group's would be the total's minus the shown groups'.
#[tokio::test]
async fn a_funder_cannot_subtract_its_way_to_a_hidden_group_s_outcome() {
    let app = TestApp::spawn().await;
    let TwoReferrers {
        org,
        therapist,
        gp,
        nurse,
        offering,
        insurer,
        funder,
        contract,
    } = two_referrers_and_a_funder(&app).await;
    // Twelve people from the GP, nine of them measured twice; fifteen from the nurse, all
    // measured twice: every count is ten or more, only the GP's outcome group is not.
    for (referrer, people, measured) in [(&gp, 12, 9), (&nurse, 15, 15)] {
        for i in 0..people {
            let t = crate::authz::trajectory_for(&app, &offering, referrer, &therapist).await;
            store::funding::set_funding(
                &mut *app.conn().await,
                &t,
                std::slice::from_ref(&contract),
            )
            .await
            .expect("funding");
            if i < measured {
                crate::region::phq9(&app, &t, 16.0, 8.0).await;
            }
        }
    }
    let token = app.api_token(&funder).await;
    let v = app
        .get_json(
            &token,
            &format!("/api/v1/reports/impact?org={insurer}&by=referrer"),
        )
        .await;
    let phq9 = |row: &Value| -> Value {
        row["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .find(|o| o["instrument"] == "phq9")
            .map(|o| o["stats"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(phq9(&v["total"])["n"], 24, "{v}");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{v}");
    let mut referred: Vec<i64> = rows
        .iter()
        .map(|r| {
            r["referred"]
                .as_i64()
                .expect("counts of ten or more are shown")
        })
        .collect();
    referred.sort();
    assert_eq!(referred, [12, 15]);
    for row in rows {
        let s = phq9(row);
        assert!(
            s["n"].is_null() && s["mean_change"].is_null() && s["effect_size"].is_null(),
            "15 people and their change beside a total of 24 would give away the 9: {v}"
        );
    }
    // The coordinator sees both outcome groups.
    let (_, v) = coordinator_by_referrer(&app, &org).await;
    let mut n: Vec<i64> = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| phq9(r)["n"].as_i64().expect("shown"))
        .collect();
    n.sort();
    assert_eq!(n, [9, 15]);
}
