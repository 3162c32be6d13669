//! Measurement: the schedule sends single-use links, answers are saved as they come, handing
//! in scores them, a safety answer alerts the therapist at once, and reminders and
//! non-response escalation follow.

use duurloop_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::{Practice, medi_stad, trajectory_for},
    helpers::{TestApp, TestUser, link_in},
};

const DAY: i64 = 86_400_000;

struct Setup {
    app: TestApp,
    org: String,
    offering: String,
    therapist: TestUser,
    referrer: TestUser,
    trajectory: String,
}

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let Practice {
        org,
        therapist,
        referrer,
        offering,
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    Setup {
        app,
        org,
        offering,
        therapist,
        referrer,
        trajectory,
    }
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().expect("token").to_string()
}

/// The PHQ-9 answers as form fields.
fn phq9_fields(values: [i64; 9]) -> Vec<(String, String)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("phq9.phq9_{}", i + 1), v.to_string()))
        .collect()
}

fn all(code: &str, n: usize, value: i64) -> Value {
    let mut m = serde_json::Map::new();
    for i in 1..=n {
        m.insert(format!("{code}_{i}"), json!(value));
    }
    Value::Object(m)
}

#[tokio::test]
async fn a_participant_answers_by_link_and_a_safety_answer_alerts_the_therapist_at_once() {
    let s = setup().await;
    let app = &s.app;
    let token = app.api_token(&s.therapist).await;
    let v: Value = app
        .get_json(
            &token,
            &format!("/api/v1/trajectories/{}/measurements", s.trajectory),
        )
        .await;
    let points: Vec<&str> = v["measurements"]
        .as_array()
        .expect("measurements")
        .iter()
        .map(|m| m["point"].as_str().expect("point"))
        .collect();
    assert_eq!(
        points,
        [
            "baseline",
            "week5",
            "week10",
            "end",
            "followup3",
            "followup6"
        ]
    );
    assert_eq!(
        v["measurements"][1]["due_date"], "2027-02-16",
        "5 weeks after 12 January"
    );
    // The baseline goes out at once, and only once.
    assert_eq!(
        duurloop::app::measure::run_schedule(&app.state)
            .await
            .expect("run"),
        1
    );
    assert_eq!(
        duurloop::app::measure::run_schedule(&app.state)
            .await
            .expect("run"),
        0
    );
    assert_eq!(
        app.audit_count("send", "measurement").await,
        1,
        "the worker's mailing is in the audit log"
    );
    let mail = app.last_mail_to("jan@example.nl").await.expect("link sent");
    assert!(mail.subject.contains("vragenlijst"));
    let link = link_in(&mail.body_text, &app.base);
    let t = token_of(&link);
    // A forged token is refused.
    let browser = app.browser();
    assert_eq!(
        app.get(&browser, "/vragenlijst/vervalst-vervalst-vervalst")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let html = app.html(&browser, &link).await;
    assert!(
        html.contains("<fieldset") && html.contains("Weinig interesse of plezier"),
        "{html}"
    );
    assert!(html.contains("name=\"phq9.phq9_9\"") && html.contains("name=\"who5.who5_5\""));
    // Partial saving: three answers now, the rest later.
    let mut fields = vec![("action".to_string(), "save".to_string())];
    fields.extend(phq9_fields([2, 2, 2, 0, 0, 0, 0, 0, 0]).into_iter().take(3));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = app.post_form(&browser, &link, &borrowed).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("body");
    assert!(html.contains("bewaard") && html.contains("value=\"2\" checked"));
    // Answers outside the options are refused, over the API too.
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/questionnaire/{t}")))
        .json(&json!({"answers": {"phq9": {"phq9_1": 4}}}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Handing in while incomplete keeps the answers and marks what is open.
    let r = app
        .post_form(&browser, &link, &[("action", "submit")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(html.contains("nog open") && html.contains("value=\"2\" checked"));
    // The rest, with item 9 above 0: scored, the link used up, the therapist alerted.
    let mut fields = vec![("action".to_string(), "submit".to_string())];
    fields.extend(phq9_fields([2, 2, 2, 3, 2, 2, 2, 2, 1]));
    for i in 1..=7 {
        fields.push((format!("gad7.gad7_{i}"), "2".into()));
    }
    for i in 1..=5 {
        fields.push((format!("who5.who5_{i}"), "1".into()));
    }
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = app.post_form(&browser, &link, &borrowed).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("0800-0113") && html.contains("113.nl") && html.contains("huisarts"),
        "{html}"
    );
    assert_eq!(
        app.post_form(&browser, &link, &borrowed).await.status(),
        StatusCode::NOT_FOUND,
        "a link works once"
    );
    let alert_mail = app
        .last_mail_to("poh@medi-stad.example")
        .await
        .expect("therapist alerted");
    assert!(alert_mail.subject.contains("Dringend") && !alert_mail.body_text.contains("Jan"));
    // The therapist sees the banner, the score with its band, and acknowledges.
    let client = app.session_for(&s.therapist).await;
    let home = app.html(&client, "/").await;
    assert!(
        home.contains("id=\"alerts\"") && home.contains("Jan Jansen"),
        "{home}"
    );
    let page = app
        .html(&client, &format!("/trajectories/{}", s.trajectory))
        .await;
    assert!(
        page.contains("<strong>18</strong>") && page.contains("Matig ernstig"),
        "{page}"
    );
    assert!(page.contains("<strong>14</strong>") && page.contains("<strong>20</strong>"));
    // The start page named Jan in the alert banner and the caseload: both are logged.
    assert_eq!(app.audit_count("read", "safety_alert").await, 1);
    assert!(app.audit_count("show", "trajectory").await >= 1);
    let v: Value = app.get_json(&token, "/api/v1/alerts").await;
    assert_eq!(app.audit_count("read", "safety_alert").await, 2);
    let alert = v[0]["id"].as_str().expect("alert").to_string();
    assert_eq!(v[0]["item"], "phq9_9");
    let referrer_token = app.api_token(&s.referrer).await;
    assert_eq!(
        app.api(
            &referrer_token,
            Method::POST,
            &format!("/api/v1/alerts/{alert}/acknowledge")
        )
        .send()
        .await
        .expect("req")
        .status(),
        StatusCode::NOT_FOUND,
        "the referrer does not see alerts"
    );
    let r = app
        .post_form(&client, &format!("/alerts/{alert}/acknowledge"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = app.html(&client, "/").await;
    assert!(!home.contains("id=\"alerts\""));
    assert!(app.audit_count("submit", "measurement").await == 1);
    assert_eq!(
        app.audit_count_outcome("acknowledge", "safety_alert", "ok")
            .await,
        1
    );
    assert_eq!(
        app.audit_count_outcome("acknowledge", "safety_alert", "denied")
            .await,
        1,
        "the referrer's refused try is logged"
    );
    // Week 5, answered in the portal over the API: reliable change from the baseline.
    sqlx::query("UPDATE measurements SET due_date = '2026-01-01' WHERE point = 'week5'")
        .execute(&app.state.db.pool)
        .await
        .expect("due");
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let session = app.portal_api_session("jan@example.nl").await;
    let home: Value = app.get_json(&session, "/api/v1/portal").await;
    assert!(home.is_object());
    let week5: Value = app
        .get_json(
            &token,
            &format!("/api/v1/trajectories/{}/measurements", s.trajectory),
        )
        .await;
    let week5 = week5["measurements"]
        .as_array()
        .expect("measurements")
        .iter()
        .find(|m| m["point"] == "week5")
        .expect("week5")
        .clone();
    let id = week5["id"].as_str().expect("id").to_string();
    assert_eq!(week5["status"], "sent");
    let form: Value = app
        .get_json(&session, &format!("/api/v1/portal/measurements/{id}"))
        .await;
    assert_eq!(form["instruments"][0]["code"], "phq9");
    let saved: Value = app
        .api(&session, Method::PUT, &format!("/api/v1/portal/measurements/{id}"))
        .json(&json!({"submit": true, "answers": {"phq9": all("phq9", 9, 0), "gad7": all("gad7", 7, 1), "who5": all("who5", 5, 4)}}))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(saved["completed"], true, "{saved}");
    let v: Value = app
        .get_json(
            &token,
            &format!("/api/v1/trajectories/{}/measurements", s.trajectory),
        )
        .await;
    let phq9 = v["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .find(|c| c["instrument"] == "phq9")
        .expect("phq9")
        .clone();
    assert_eq!(phq9["change"]["outcome"], "recovered", "18 → 0: {phq9}");
    let who5 = v["courses"]
        .as_array()
        .expect("courses")
        .iter()
        .find(|c| c["instrument"] == "who5")
        .expect("who5")
        .clone();
    assert_eq!(who5["scores"][1]["total"], 80.0, "raw 20 × 4");
    assert_eq!(who5["change"]["outcome"], "recovered", "20 → 80");
    let page = app
        .get(
            &app.session_for(&s.therapist).await,
            &format!("/trajectories/{}", s.trajectory),
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains("<polyline") && page.contains("Hersteld"));
}

#[tokio::test]
async fn an_unanswered_questionnaire_is_reminded_with_a_fresh_link_then_the_therapist_hears() {
    let s = setup().await;
    let app = &s.app;
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let first = link_in(
        &app.last_mail_to("jan@example.nl")
            .await
            .expect("mail")
            .body_text,
        &app.base,
    );
    app.clock.advance_ms(3 * DAY + 1000);
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let reminder = app.last_mail_to("jan@example.nl").await.expect("reminder");
    assert!(reminder.subject.contains("Herinnering"));
    let second = link_in(&reminder.body_text, &app.base);
    assert_ne!(first, second);
    let browser = app.browser();
    assert_eq!(
        app.get(&browser, &first).await.status(),
        StatusCode::NOT_FOUND,
        "the first link stops when a reminder replaces it"
    );
    assert_eq!(app.get(&browser, &second).await.status(), StatusCode::OK);
    let therapist_mails = || async {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE to_addr = 'poh@medi-stad.example'",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
        n
    };
    let before = therapist_mails().await;
    app.clock.advance_ms(4 * DAY);
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let notice = app
        .last_mail_to("poh@medi-stad.example")
        .await
        .expect("therapist told");
    assert!(notice.subject.contains("onbeantwoord") && !notice.body_text.contains("Jan"));
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    assert_eq!(
        therapist_mails().await,
        before + 1,
        "the therapist hears once"
    );
    // After two weeks the link lapses.
    app.clock.advance_ms(15 * DAY);
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let browser = app.browser();
    assert_eq!(
        app.get(&browser, &second).await.status(),
        StatusCode::NOT_FOUND,
        "an expired link is refused"
    );
}

#[tokio::test]
async fn a_coordinator_adds_an_own_questionnaire_and_an_offering_measures_with_it() {
    let s = setup().await;
    let app = &s.app;
    let coord = app
        .user(
            "praktijkmanager@medi-stad.example",
            false,
            &[(&s.org, Role::Coordinator)],
            true,
        )
        .await;
    let client = app.session_for(&coord).await;
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{}/questionnaires", s.org),
            &[
                ("title", "Slaap"),
                ("items", "Ik slaap goed"),
                ("scale", "nul Nee"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{}/questionnaires", s.org),
            &[
                ("title", "Slaap en energie"),
                (
                    "items",
                    "Ik slaap slecht\n(-) Ik word uitgerust wakker\nIk ben overdag moe",
                ),
                ("scale", "1 Nooit\n2 Soms\n3 Vaak\n4 Altijd"),
                ("cutoff", "8"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let html = app
        .html(&client, &format!("/organisations/{}/questionnaires", s.org))
        .await;
    assert!(html.contains("Slaap en energie") && html.contains("PHQ-9"));
    let token = app.api_token(&coord).await;
    let cat: Value = app
        .get_json(
            &token,
            &format!("/api/v1/organisations/{}/questionnaires", s.org),
        )
        .await;
    let code = cat["own"][0]["code"].as_str().expect("code").to_string();
    assert_eq!(cat["own"][0]["items"][1]["reverse"], true);
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/offerings/{}/measurement", s.offering),
        )
        .json(&json!({"points": "baseline,end,onzin", "instruments": "phq9"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/offerings/{}/measurement", s.offering),
        )
        .json(&json!({"points": "baseline,end", "instruments": format!("phq9,{code}")}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A new trajectory measures at the two points, with the own questionnaire.
    let second = trajectory_for(app, &s.offering, &s.referrer, &s.therapist).await;
    let mut c = app.conn().await;
    let ms = duurloop::store::measure::of_trajectory(&mut c, &second)
        .await
        .expect("measurements");
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].instruments, format!("phq9,{code}"));
    // Answering it: reverse item scored by hand, 4 + (5 − 1) + 3 = 11.
    let m = ms[0].id.clone();
    drop(c);
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let mail = app.last_mail_to("jan@example.nl").await.expect("mail");
    let t = token_of(&link_in(&mail.body_text, &app.base));
    let mut answers = json!({"phq9": all("phq9", 9, 0)});
    answers[&code] =
        json!({format!("{code}_1"): 4, format!("{code}_2"): 1, format!("{code}_3"): 3});
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/questionnaire/{t}")))
        .json(&json!({"submit": true, "answers": answers}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let (total,): (f64,) = sqlx::query_as(
        "SELECT total FROM measurement_scores WHERE measurement_id = $1 AND instrument = $2",
    )
    .bind(&m)
    .bind(&code)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("score");
    assert_eq!(total, 11.0);
    // Switched off and on again: over the API and on the page.
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/questionnaires/{code}/active"),
        )
        .json(&json!({ "active": false }))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(retired(app, &token, &s.org, &code).await);
    app.post_form(
        &client,
        &format!("/questionnaires/{code}/active"),
        &[("active", "1")],
    )
    .await;
    assert!(!retired(app, &token, &s.org, &code).await);
    // Built-in definitions come with their FHIR Questionnaire.
    let v: Value = app.get_json(&token, "/api/v1/instruments/gad7").await;
    assert_eq!(v["fhir"]["resourceType"], "Questionnaire");
    assert_eq!(v["fhir"]["item"].as_array().expect("items").len(), 7);
}

/// Whether the organisation's catalogue lists its own questionnaire `code` as switched off.
async fn retired(app: &TestApp, token: &str, org: &str, code: &str) -> bool {
    let v: Value = app
        .get_json(
            token,
            &format!("/api/v1/organisations/{org}/questionnaires"),
        )
        .await;
    v["retired"]
        .as_array()
        .expect("retired")
        .iter()
        .any(|c| c == code)
}

/// The answers to ZG-5 (care use) as the form sends them, by option value.
fn zg5(values: [i64; 5]) -> Value {
    let mut m = serde_json::Map::new();
    for (i, v) in values.iter().enumerate() {
        m.insert(format!("zg5_{}", i + 1), json!(v));
    }
    Value::Object(m)
}

/// Hands in the questionnaire of the latest link mailed to the participant.
async fn hand_in(app: &TestApp, answers: Value) {
    let mail = app.last_mail_to("jan@example.nl").await.expect("link sent");
    let t = token_of(&link_in(&mail.body_text, &app.base));
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/questionnaire/{t}")))
        .json(&json!({"submit": true, "answers": answers}))
        .send()
        .await
        .expect("req");
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn care_use_is_asked_at_baseline_and_the_end_and_its_change_shows_in_the_impact_report() {
    let app = TestApp::spawn().await;
    let Practice {
        org,
        therapist,
        referrer,
        offering,
    } = medi_stad(&app).await;
    let coord = app
        .user(
            "praktijkmanager@medi-stad.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    let token = app.api_token(&coord).await;
    // ZG-5 is built in: listed in the catalogue and chosen like the others under *Metingen*.
    let cat: Value = app
        .get_json(
            &token,
            &format!("/api/v1/organisations/{org}/questionnaires"),
        )
        .await;
    assert!(
        cat["builtin"]
            .as_array()
            .expect("builtin")
            .iter()
            .any(|i| i["code"] == "zg5" && i["title"]["nl"] == "ZG-5 Zorggebruik"),
        "{cat}"
    );
    let client = app.session_for(&coord).await;
    let r = app
        .post_form(
            &client,
            &format!("/offerings/{offering}/measurement"),
            &[
                ("points", "baseline,end,followup3"),
                ("instruments", "phq9,zg5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .html(&client, &format!("/offerings/{offering}/measurement"))
        .await;
    assert!(
        html.contains("value=\"phq9,zg5\"") && html.contains("zorggebruik"),
        "{html}"
    );
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let ms = duurloop::store::measure::of_trajectory(&mut *app.conn().await, &trajectory)
        .await
        .expect("measurements");
    let planned: Vec<(&str, &str)> = ms
        .iter()
        .map(|m| (m.point.as_str(), m.instruments.as_str()))
        .collect();
    assert_eq!(
        planned,
        [
            ("baseline", "phq9,zg5"),
            ("end", "phq9,zg5"),
            ("followup3", "phq9,zg5")
        ]
    );
    // At the start: twice the GP, 3–5 times the psychologist (4), no physio, once the
    // hospital, 6 or more days off (7): 14, "much".
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let mut answers = json!({"phq9": all("phq9", 9, 2)});
    answers["zg5"] = zg5([2, 4, 0, 1, 7]);
    hand_in(&app, answers).await;
    let score = |point: &'static str| {
        let pool = app.state.db.pool.clone();
        let trajectory = trajectory.clone();
        async move {
            let row: (f64, Option<String>) = sqlx::query_as(
                "SELECT total, band FROM measurement_scores \
                 WHERE trajectory_id = $1 AND instrument = 'zg5' AND point = $2",
            )
            .bind(&trajectory)
            .bind(point)
            .fetch_one(&pool)
            .await
            .expect("score");
            row
        }
    };
    assert_eq!(score("baseline").await, (14.0, Some("much".into())));
    // At the end (the programme starts on 12 January 2027 and runs twelve weeks): once the GP
    // and once the psychologist: 2.
    app.clock.advance_ms(150 * DAY);
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("run");
    let mut answers = json!({"phq9": all("phq9", 9, 1)});
    answers["zg5"] = zg5([1, 1, 0, 0, 0]);
    hand_in(&app, answers).await;
    assert_eq!(score("end").await, (2.0, Some("some".into())));
    // The report: care use fell by 12, and no reliable change is claimed for it (a fresh token
    // and session: the first ones expired while the programme ran).
    let token = app.api_token(&coord).await;
    let client = app.session_for(&coord).await;
    let v = app
        .get_json(&token, &format!("/api/v1/reports/impact?org={org}"))
        .await;
    let outcome = |code: &str| {
        v["total"]["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .find(|o| o["instrument"] == code)
            .unwrap_or_else(|| panic!("{code}: {v}"))["stats"]
            .clone()
    };
    let care = outcome("zg5");
    assert_eq!(
        (care["n"].as_u64(), care["mean_change"].as_f64()),
        (Some(1), Some(-12.0))
    );
    assert_eq!(
        (care["mean_pre"].as_f64(), care["mean_post"].as_f64()),
        (Some(14.0), Some(2.0))
    );
    for claim in [
        "reliably_improved",
        "recovered",
        "deteriorated",
        "share_reliably_improved",
    ] {
        assert!(care.get(claim).is_none(), "{claim}: {care}");
    }
    assert!(outcome("phq9").get("reliably_improved").is_some());
    let html = app.html(&client, "/reports").await;
    assert!(
        html.contains("<th>ZG5</th>") && html.contains("<td>n 1: -12.00 (d —)</td>"),
        "{html}"
    );
}
