//! Paying for it (SPEC C9): payers and contracts, funding per trajectory with limits,
//! invoices from recorded events (draft → sent → paid), credit notes, numbers without gaps,
//! PDF and CSV, budgets, and what a funder may see.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::{offering_in, trajectory_for},
    helpers::{TestApp, TestUser},
};

struct Practice {
    org: String,
    insurer_org: String,
    coord: TestUser,
    therapist: TestUser,
    funder: TestUser,
    offering: String,
    trajectory: String,
    sessions: Vec<String>,
}

/// A practice with an offering, one participant's trajectory (intake recorded through the
/// real actions), weekly sessions, and an insurer organisation with a funder.
async fn practice(app: &TestApp) -> Practice {
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let insurer_org = app.org("Zuiderzee", OrgKind::Insurer).await;
    let coord = app
        .user("coord@x.example", false, &[(&org, Role::Coordinator)], true)
        .await;
    let therapist = app
        .user("poh@x.example", false, &[(&org, Role::Therapist)], true)
        .await;
    let referrer = app
        .user("huisarts@x.example", false, &[(&org, Role::Referrer)], true)
        .await;
    let funder = app
        .user(
            "inkoop@zuiderzee.example",
            false,
            &[(&insurer_org, Role::Funder)],
            true,
        )
        .await;
    let (_, offering) = offering_in(app, &org, &therapist.id).await;
    let trajectory = trajectory_for(app, &offering, &referrer, &therapist).await;
    crate::authz::first_session(app, &offering, &therapist).await;
    let sessions = {
        let mut c = app.conn().await;
        duurloop::store::groups::sessions(&mut c, &offering)
            .await
            .expect("sessions")
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    Practice {
        org,
        insurer_org,
        coord,
        therapist,
        funder,
        offering,
        trajectory,
        sessions,
    }
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .api(token, Method::POST, path)
        .json(&body)
        .send()
        .await
        .expect("req");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn attend(app: &TestApp, token: &str, session: &str, trajectory: &str) {
    let r = app
        .api(
            token,
            Method::PUT,
            &format!("/api/v1/sessions/{session}/attendance/{trajectory}"),
        )
        .json(&json!({"status": "present"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn invoices_come_from_recorded_events_split_over_sources_with_numbers_without_gaps() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let ct = app.api_token(&p.coord).await;
    let tt = app.api_token(&p.therapist).await;
    // The insurer pays the intake consult and at most two group sessions; then self-pay.
    let (s, v) = post_json(
        &app,
        &ct,
        "/api/v1/payers",
        json!({"org": p.org, "kind": "insurer", "name": "Zorgverzekeraar Zuiderzee",
               "funder_org_id": p.insurer_org, "reference": "UZOVI 3399"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let insurer = v["id"].as_str().expect("id").to_string();
    let (s, v) = post_json(
        &app,
        &ct,
        &format!("/api/v1/payers/{insurer}/contracts"),
        json!({"name": "Module groepstarief", "valid_from": "2026-01-01", "valid_to": "2027-12-31",
               "max_sessions": "2", "tariffs": {"intake": "12,40", "group_session": "15"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let module = v["id"].as_str().expect("id").to_string();
    let (_, v) = post_json(
        &app,
        &ct,
        "/api/v1/payers",
        json!({"org": p.org, "kind": "self_pay", "name": "Eigen betaling"}),
    )
    .await;
    let self_pay = v["id"].as_str().expect("id").to_string();
    let (_, v) = post_json(
        &app,
        &ct,
        &format!("/api/v1/payers/{self_pay}/contracts"),
        json!({"name": "Particulier", "valid_from": "2026-01-01",
               "tariffs": {"group_session": "20,00"}}),
    )
    .await;
    let own = v["id"].as_str().expect("id").to_string();
    // Bad input is refused with the fields named, and nothing is written.
    let (s, v) = post_json(
        &app,
        &ct,
        &format!("/api/v1/payers/{insurer}/contracts"),
        json!({"name": "", "valid_from": "gisteren", "tariffs": {"intake": "-3"}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["name", "valid_from", "tariffs"] {
        assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
    }
    // The therapist sets the trajectory's sources in order.
    let r = app
        .api(
            &tt,
            Method::PUT,
            &format!("/api/v1/trajectories/{}/funding", p.trajectory),
        )
        .json(&json!({"contracts": [module, own]}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    // Nothing happened yet but the intake: no invoice from plans.
    for s in &p.sessions[..3] {
        attend(&app, &tt, s, &p.trajectory).await;
    }
    let f = app
        .get_json(
            &tt,
            &format!("/api/v1/trajectories/{}/funding", p.trajectory),
        )
        .await;
    let usage = f["usage"].as_array().expect("usage");
    let of = |k: &str| {
        usage
            .iter()
            .find(|u| u["contract"] == k)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(of(&module)["sessions"], 2, "{f}");
    assert_eq!(
        of(&own)["sessions"],
        1,
        "the third session goes to self-pay: {f}"
    );
    assert!(
        f["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["kind"] == "sessions_left" && w["contract"] == module.as_str()),
        "a warning before the insurer's limit: {f}"
    );
    // The insurer's invoice: the intake consult and two sessions; its total is its lines.
    let period =
        json!({"org": p.org, "payer_id": insurer, "from": "2026-01-01", "to": "2027-12-31"});
    let (s, v) = post_json(&app, &ct, "/api/v1/invoices", period.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let first = v["id"].as_str().expect("id").to_string();
    let inv = app
        .get_json(&ct, &format!("/api/v1/invoices/{first}"))
        .await;
    let lines = inv["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 3, "{inv}");
    let sum: i64 = lines
        .iter()
        .map(|l| l["cents"].as_i64().expect("cents"))
        .sum();
    assert_eq!(sum, 1_240 + 2 * 1_500);
    assert_eq!(inv["invoice"]["total_cents"], sum);
    assert_eq!(inv["invoice"]["status"], "draft");
    assert!(inv["invoice"]["number"].is_null(), "drafts have no number");
    assert!(
        !inv.to_string().contains("Jan Jansen"),
        "no names on invoices"
    );
    // What is on an invoice is not billed twice.
    let (s, v) = post_json(&app, &ct, "/api/v1/invoices", period.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // A deleted draft leaves no gap: numbers are given when sending.
    let own_period =
        json!({"org": p.org, "payer_id": self_pay, "from": "2026-01-01", "to": "2027-12-31"});
    let (_, v) = post_json(&app, &ct, "/api/v1/invoices", own_period.clone()).await;
    let scrap = v["id"].as_str().expect("id").to_string();
    let r = app
        .api(&ct, Method::DELETE, &format!("/api/v1/invoices/{scrap}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let year = &duurloop::clock::local_date(app.state.now())[..4];
    let (s, v) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{first}/send"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["number"], format!("{year}-0001"));
    let (_, v) = post_json(&app, &ct, "/api/v1/invoices", own_period).await;
    let second = v["id"].as_str().expect("id").to_string();
    let (_, v) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{second}/send"),
        json!({}),
    )
    .await;
    assert_eq!(v["number"], format!("{year}-0002"));
    // A sent invoice cannot change: not deleted, not sent again.
    let r = app
        .api(&ct, Method::DELETE, &format!("/api/v1/invoices/{first}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (s, _) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{first}/send"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Paid, then credited: the credit note takes the next number and cancels the total;
    // the events can be billed again.
    let (s, _) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{first}/paid"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{first}/credit"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let credit = v["id"].as_str().expect("id").to_string();
    let cn = app
        .get_json(&ct, &format!("/api/v1/invoices/{credit}"))
        .await;
    assert_eq!(cn["invoice"]["kind"], "credit_note");
    assert_eq!(cn["invoice"]["number"], format!("{year}-0003"));
    assert_eq!(cn["invoice"]["total_cents"], -sum);
    let (s, _) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{first}/credit"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "credited once");
    let (s, v) = post_json(&app, &ct, "/api/v1/invoices", period).await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "billable again after the credit note: {v}"
    );
    let again = v["id"].as_str().expect("id").to_string();
    let inv = app
        .get_json(&ct, &format!("/api/v1/invoices/{again}"))
        .await;
    assert_eq!(inv["invoice"]["total_cents"], sum);
    // The PDF names the number and the total; the CSV has the lines, no names.
    let r = app
        .api(&ct, Method::GET, &format!("/api/v1/invoices/{first}/pdf"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.expect("pdf");
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("text");
    assert!(
        text.contains(&format!("{year}-0001")) && text.contains("42,40"),
        "{text}"
    );
    let r = app
        .api(
            &ct,
            Method::GET,
            &format!("/api/v1/invoices/export.csv?org={}", p.org),
        )
        .send()
        .await
        .expect("req");
    let csv = r.text().await.expect("csv");
    assert!(
        csv.contains(&format!("{year}-0001")) && csv.contains("-1500"),
        "{csv}"
    );
    assert!(!csv.contains("Jan"), "{csv}");
    // The funder sees what was sent to it, never drafts, never a participant.
    let ft = app.api_token(&p.funder).await;
    let list = app
        .get_json(&ft, &format!("/api/v1/invoices?org={}", p.insurer_org))
        .await;
    let ids: Vec<&str> = list["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(ids.contains(&first.as_str()) && ids.contains(&credit.as_str()));
    assert!(!ids.contains(&again.as_str()) && !ids.contains(&second.as_str()));
    let seen = app
        .get_json(&ft, &format!("/api/v1/invoices/{first}"))
        .await;
    assert_eq!(seen["lines"].as_array().expect("lines").len(), 3);
    assert!(
        !seen.to_string().contains(&p.trajectory),
        "no record ids for the funder: {seen}"
    );
    for path in [
        format!("/api/v1/invoices/{again}"),
        format!("/api/v1/trajectories/{}/funding", p.trajectory),
        format!("/api/v1/trajectories/{}", p.trajectory),
    ] {
        let r = app.api(&ft, Method::GET, &path).send().await.expect("req");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .api(&ft, Method::GET, &format!("/api/v1/invoices?org={}", p.org))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.audit_count("send", "invoice").await >= 2);
    assert!(app.audit_count("update", "trajectory_funding").await >= 1);
    assert!(app.audit_count("read", "invoice").await >= 1);
    let _ = &p.offering;
}

#[tokio::test]
async fn the_pages_manage_payers_funding_invoices_and_a_subsidy_budget() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let client = app.session_for(&p.coord).await;
    // A payer and a subsidy contract with a budget, through the forms.
    let r = app
        .post_form(
            &client,
            "/funding/payers",
            &[
                ("org", p.org.as_str()),
                ("kind", "subsidy"),
                ("name", "Samen Gezond"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let payer = {
        let mut c = app.conn().await;
        duurloop::store::funding::payers_of(&mut c, &p.org)
            .await
            .expect("payers")[0]
            .id
            .clone()
    };
    let contract_form = |budget: &'static str, fee: &'static str| {
        vec![
            ("org", p.org.clone()),
            ("name", "Subsidie 2027".to_string()),
            ("valid_from", "2026-01-01".to_string()),
            ("budget", budget.to_string()),
            ("tariff_module_fee", fee.to_string()),
            ("tariff_group_session", "10,00".to_string()),
        ]
    };
    let form = contract_form("1000", "veel");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app
        .post_form(
            &client,
            &format!("/funding/payers/{payer}/contracts"),
            &pairs,
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().await.expect("body").contains("12,50"),
        "the amount message"
    );
    let form = contract_form("95,00", "50");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app
        .post_form(
            &client,
            &format!("/funding/payers/{payer}/contracts"),
            &pairs,
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&client, &format!("/funding?org={}", p.org)).await;
    assert!(
        html.contains("Samen Gezond") && html.contains("Moduletarief € 50,00"),
        "{html}"
    );
    let contract = {
        let mut c = app.conn().await;
        duurloop::store::funding::contracts_of(&mut c, &p.org)
            .await
            .expect("contracts")[0]
            .id
            .clone()
    };
    // The trajectory page sets the funding; sessions use the budget, the page warns.
    let r = app
        .post_form(
            &client,
            &format!("/trajectories/{}/funding", p.trajectory),
            &[("contract", contract.as_str()), ("contract", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let tt = app.api_token(&p.therapist).await;
    for s in &p.sessions[..4] {
        attend(&app, &tt, s, &p.trajectory).await;
    }
    // €50 module fee + €10 per session: the fifth €10 would pass the €95 budget.
    let html = app
        .html(&client, &format!("/trajectories/{}", p.trajectory))
        .await;
    assert!(html.contains("Samen Gezond — Subsidie 2027"), "{html}");
    let unfunded = async || {
        app.get_json(
            &tt,
            &format!("/api/v1/trajectories/{}/funding", p.trajectory),
        )
        .await["unfunded"]
            .clone()
    };
    assert_eq!(
        unfunded().await,
        1,
        "the intake: this contract has no intake tariff"
    );
    let budgets = app
        .get_json(
            &app.api_token(&p.coord).await,
            &format!("/api/v1/budgets?org={}", p.org),
        )
        .await;
    assert_eq!(budgets[0]["open_cents"], 5_000 + 4 * 1_000, "{budgets}");
    assert_eq!(budgets[0]["left_cents"], 500);
    attend(&app, &tt, &p.sessions[4], &p.trajectory).await;
    assert_eq!(unfunded().await, 2, "the fifth session is past the budget");
    let html = app
        .html(&client, &format!("/trajectories/{}", p.trajectory))
        .await;
    assert!(
        html.contains("geen betaler"),
        "the unfunded events are flagged: {html}"
    );
    // Draft from the page, then sent; the budget page shows it invoiced.
    let r = app
        .post_form(
            &client,
            "/invoices",
            &[
                ("org", p.org.as_str()),
                ("payer_id", payer.as_str()),
                ("from", "2026-01-01"),
                ("to", "2027-12-31"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let invoice_path = crate::helpers::location(&r);
    let r = app
        .post_form(&client, &format!("{invoice_path}/send"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&client, &invoice_path).await;
    assert!(
        html.contains("verstuurd") && html.contains("€ 90,00"),
        "{html}"
    );
    let html = app
        .html(&client, &format!("/funding/budgets?org={}", p.org))
        .await;
    assert!(
        html.contains("€ 90,00") && html.contains("€ 5,00"),
        "{html}"
    );
    // Sending again is refused on the page too.
    let r = app
        .post_form(&client, &format!("{invoice_path}/send"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = app.html(&client, &format!("/invoices?org={}", p.org)).await;
    assert!(html.contains("Samen Gezond"), "{html}");
}

/// The demo's practice (Medi-Stad) with its coordinator, an API token of theirs and the
/// practice's invoices as `GET /api/v1/invoices` lists them.
struct DemoInvoices {
    coord: TestUser,
    ct: String,
    org: String,
    list: Value,
}

async fn demo_invoices(app: &TestApp) -> DemoInvoices {
    duurloop::cli::demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let coord = app.demo_user("praktijkmanager@medi-stad.example").await;
    let ct = app.api_token(&coord).await;
    let org = crate::reports::user_org(app, "praktijkmanager@medi-stad.example").await;
    let list = app
        .get_json(&ct, &format!("/api/v1/invoices?org={org}"))
        .await;
    DemoInvoices {
        coord,
        ct,
        org,
        list,
    }
}

#[tokio::test]
async fn the_demo_has_the_lelystad_mix_and_a_municipality_deal_with_invoices_to_both() {
    let app = TestApp::spawn().await;
    let DemoInvoices {
        coord,
        ct,
        org: _,
        list,
    } = demo_invoices(&app).await;
    let invoices = list["invoices"].as_array().expect("invoices");
    assert_eq!(invoices.len(), 3, "{list}");
    let by_status = |s: &str| invoices.iter().filter(|i| i["status"] == s).count();
    assert_eq!((by_status("sent"), by_status("draft")), (2, 1));
    // The insurer's invoice holds intake consults and group sessions under the module tariff.
    let insurer = invoices
        .iter()
        .find(|i| i["payer_name"] == "Zorgverzekeraar Zuiderzee")
        .expect("to the insurer");
    let inv = app
        .get_json(
            &ct,
            &format!("/api/v1/invoices/{}", insurer["id"].as_str().expect("id")),
        )
        .await;
    let services: Vec<&str> = inv["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["service"].as_str())
        .collect();
    assert!(
        services.contains(&"intake") && services.contains(&"group_session"),
        "{inv}"
    );
    // Funders see what was sent to them and their budgets.
    for (email, payer) in [
        ("zorginkoop@zuiderzee.example", "Zorgverzekeraar Zuiderzee"),
        (
            "welzijn@noordwijk.example",
            "Gemeente Noordwijk — Extraatje voor je welzijn",
        ),
    ] {
        let funder = app.demo_user(email).await;
        let ft = app.api_token(&funder).await;
        let funder_org = crate::reports::user_org(&app, email).await;
        let seen = app
            .get_json(&ft, &format!("/api/v1/invoices?org={funder_org}"))
            .await;
        let seen = seen["invoices"].as_array().expect("invoices");
        assert!(
            seen.len() == 1 && seen[0]["payer_name"] == payer && seen[0]["status"] == "sent",
            "{email}: {seen:?}"
        );
    }
    let funder = app.demo_user("welzijn@noordwijk.example").await;
    let funder_org = crate::reports::user_org(&app, "welzijn@noordwijk.example").await;
    let budgets = app
        .get_json(
            &app.api_token(&funder).await,
            &format!("/api/v1/budgets?org={funder_org}"),
        )
        .await;
    assert!(
        budgets[0]["invoiced_cents"].as_i64().expect("cents") > 0,
        "{budgets}"
    );
    // The coordinator's budget page shows the subsidy in use.
    let client = app.session_for(&coord).await;
    let html = app.html(&client, "/funding/budgets").await;
    assert!(
        html.contains("Subsidie runningtherapie") && html.contains("<meter"),
        "{html}"
    );
}

/// A coordinator of another organisation, who may change nothing here; with that
/// organisation's id.
async fn coordinator_elsewhere(app: &TestApp) -> (String, TestUser) {
    let other_org = app.org("Elders", OrgKind::GpPractice).await;
    let coordinator = app
        .user(
            "coord@elders.example",
            false,
            &[(&other_org, Role::Coordinator)],
            true,
        )
        .await;
    (other_org, coordinator)
}

async fn put_json(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .api(token, Method::PUT, path)
        .json(&body)
        .send()
        .await
        .expect("req");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A payer through the API with one contract; returns (payer, contract).
async fn payer_with_contract(
    app: &TestApp,
    token: &str,
    org: &str,
    payer: Value,
    contract: Value,
) -> (String, String) {
    let mut body = payer;
    body["org"] = json!(org);
    let (s, v) = post_json(app, token, "/api/v1/payers", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let payer = v["id"].as_str().expect("id").to_string();
    let (s, v) = post_json(
        app,
        token,
        &format!("/api/v1/payers/{payer}/contracts"),
        contract,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (payer, v["id"].as_str().expect("id").to_string())
}

async fn set_sources(app: &TestApp, token: &str, trajectory: &str, contracts: &[&str]) {
    let r = app
        .api(
            token,
            Method::PUT,
            &format!("/api/v1/trajectories/{trajectory}/funding"),
        )
        .json(&json!({ "contracts": contracts }))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_coordinator_edits_a_payer_on_the_page_and_the_api_and_sent_invoices_keep_what_they_said()
{
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let ct = app.api_token(&p.coord).await;
    let tt = app.api_token(&p.therapist).await;
    let (payer, contract) = payer_with_contract(
        &app,
        &ct,
        &p.org,
        json!({"kind": "insurer", "name": "Zorgverzekeraar Zuiderzee",
               "reference": "UZOVI 3399", "address": "Postbus 1, 8200 AA Lelystad"}),
        json!({"name": "Module", "valid_from": "2026-01-01", "tariffs": {"group_session": "15"}}),
    )
    .await;
    set_sources(&app, &tt, &p.trajectory, &[&contract]).await;
    attend(&app, &tt, &p.sessions[0], &p.trajectory).await;
    let period = json!({"org": p.org, "payer_id": payer, "from": "2026-01-01", "to": "2027-12-31"});
    let (_, v) = post_json(&app, &ct, "/api/v1/invoices", period.clone()).await;
    let sent = v["id"].as_str().expect("id").to_string();
    let (s, _) = post_json(
        &app,
        &ct,
        &format!("/api/v1/invoices/{sent}/send"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    attend(&app, &tt, &p.sessions[1], &p.trajectory).await;
    let (_, v) = post_json(&app, &ct, "/api/v1/invoices", period).await;
    let draft = v["id"].as_str().expect("id").to_string();

    // Bad input is refused as on creation, and nothing changes.
    let (s, v) = put_json(
        &app,
        &ct,
        &format!("/api/v1/payers/{payer}"),
        json!({"name": " ", "email": "geen-adres"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    for field in ["name", "email"] {
        assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
    }
    // Someone of another organisation may not change it, on the API or the page.
    let (other_org, stranger) = coordinator_elsewhere(&app).await;
    let (s, _) = put_json(
        &app,
        &app.api_token(&stranger).await,
        &format!("/api/v1/payers/{payer}"),
        json!({"name": "Overgenomen"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = app
        .post_form(
            &app.session_for(&stranger).await,
            &format!("/funding/payers/{payer}"),
            &[("org", other_org.as_str()), ("name", "Overgenomen")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The therapist neither.
    let (s, _) = put_json(
        &app,
        &tt,
        &format!("/api/v1/payers/{payer}"),
        json!({"name": "Overgenomen"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The coordinator changes it over the API.
    let (s, v) = put_json(
        &app,
        &ct,
        &format!("/api/v1/payers/{payer}"),
        json!({"name": "Zuiderzee Zorgverzekeringen", "reference": "UZOVI 3400",
               "address": "Postbus 2, 8200 AB Lelystad", "email": "facturen@zuiderzee.example"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "Zuiderzee Zorgverzekeringen");
    assert_eq!(v["reference"], "UZOVI 3400");
    assert_eq!(v["email"], "facturen@zuiderzee.example");
    assert_eq!(v["kind"], "insurer", "the kind does not change");
    // The sent invoice keeps what it said; the draft takes the new details.
    let inv = app.get_json(&ct, &format!("/api/v1/invoices/{sent}")).await;
    assert_eq!(
        inv["invoice"]["payer_name"], "Zorgverzekeraar Zuiderzee",
        "{inv}"
    );
    assert_eq!(inv["payer"]["name"], "Zorgverzekeraar Zuiderzee");
    assert_eq!(inv["payer"]["address"], "Postbus 1, 8200 AA Lelystad");
    let r = app
        .api(&ct, Method::GET, &format!("/api/v1/invoices/{sent}/pdf"))
        .send()
        .await
        .expect("req");
    let text = pdf_extract::extract_text_from_mem(&r.bytes().await.expect("pdf")).expect("text");
    assert!(
        text.contains("Zorgverzekeraar Zuiderzee")
            && text.contains("UZOVI 3399")
            && !text.contains("Postbus 2"),
        "{text}"
    );
    let inv = app
        .get_json(&ct, &format!("/api/v1/invoices/{draft}"))
        .await;
    assert_eq!(inv["payer"]["name"], "Zuiderzee Zorgverzekeringen", "{inv}");
    assert_eq!(inv["payer"]["reference"], "UZOVI 3400");
    let list = app
        .get_json(&ct, &format!("/api/v1/invoices?org={}", p.org))
        .await;
    let name_of = |id: &str| {
        list["invoices"]
            .as_array()
            .expect("invoices")
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| i["payer_name"].clone())
    };
    assert_eq!(name_of(&sent), Some(json!("Zorgverzekeraar Zuiderzee")));
    assert_eq!(name_of(&draft), Some(json!("Zuiderzee Zorgverzekeringen")));

    // And on the page: a failed edit shows what was typed with the message, then it saves.
    let client = app.session_for(&p.coord).await;
    let html = app.html(&client, &format!("/funding?org={}", p.org)).await;
    assert!(
        html.contains(&format!("action=\"/funding/payers/{payer}\"")),
        "an edit form per payer: {html}"
    );
    let r = app
        .post_form(
            &client,
            &format!("/funding/payers/{payer}"),
            &[
                ("org", p.org.as_str()),
                ("name", "Zuiderzee"),
                ("email", "niet-goed"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(html.contains("niet-goed"), "{html}");
    let r = app
        .post_form(
            &client,
            &format!("/funding/payers/{payer}"),
            &[
                ("org", p.org.as_str()),
                ("name", "Zuiderzee Zorg"),
                ("reference", "UZOVI 3400"),
                ("address", "Postbus 3, 8200 AC Lelystad"),
                ("email", "facturen@zuiderzee.example"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&client, &format!("/funding?org={}", p.org)).await;
    assert!(
        html.contains("Zuiderzee Zorg") && html.contains("Postbus 3, 8200 AC Lelystad"),
        "{html}"
    );
    let html = app.html(&client, &format!("/invoices/{sent}")).await;
    assert!(html.contains("Zorgverzekeraar Zuiderzee"), "{html}");
    assert_eq!(app.audit_count_of("update", "payer", &payer).await, 2);
}

/// The date of a session, `YYYY-MM-DD`.
async fn session_date(app: &TestApp, session: &str) -> String {
    let mut c = app.conn().await;
    duurloop::store::groups::session(&mut c, session)
        .await
        .expect("session")
        .expect("exists")
        .session_date
}

#[tokio::test]
async fn an_ended_contract_pays_nothing_after_its_end_and_cannot_end_before_what_was_billed() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let ct = app.api_token(&p.coord).await;
    let tt = app.api_token(&p.therapist).await;
    let (insurer, module) = payer_with_contract(
        &app,
        &ct,
        &p.org,
        json!({"kind": "insurer", "name": "Zuiderzee"}),
        json!({"name": "Module", "valid_from": "2026-01-01", "tariffs": {"group_session": "15"}}),
    )
    .await;
    let (self_pay, own) = payer_with_contract(
        &app,
        &ct,
        &p.org,
        json!({"kind": "self_pay", "name": "Eigen betaling"}),
        json!({"name": "Particulier", "valid_from": "2026-01-01", "tariffs": {"group_session": "20"}}),
    )
    .await;
    set_sources(&app, &tt, &p.trajectory, &[&module, &own]).await;
    for s in &p.sessions[..3] {
        attend(&app, &tt, s, &p.trajectory).await;
    }
    let days = [
        session_date(&app, &p.sessions[0]).await,
        session_date(&app, &p.sessions[1]).await,
        session_date(&app, &p.sessions[2]).await,
    ];
    // The insurer is billed for the first two sessions.
    let (s, v) = post_json(
        &app,
        &ct,
        "/api/v1/invoices",
        json!({"org": p.org, "payer_id": insurer, "from": "2026-01-01", "to": days[1]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let end = |day: &str| json!({ "valid_to": day });
    let path = format!("/api/v1/contracts/{module}/end");
    // Not before what was billed, not before the start, not a non-date.
    let (s, v) = post_json(&app, &ct, &path, end(&days[0])).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["fields"]["valid_to"].is_string(), "{v}");
    for bad in ["2025-12-31", "morgen"] {
        let (s, v) = post_json(&app, &ct, &path, end(bad)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
    }
    // Someone of another organisation, or the therapist, may not end it.
    let (_, stranger) = coordinator_elsewhere(&app).await;
    for token in [app.api_token(&stranger).await, tt.clone()] {
        let (s, _) = post_json(&app, &token, &path, end(&days[1])).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    // On the last billed day it ends; it cannot be moved later again.
    let (s, v) = post_json(&app, &ct, &path, end(&days[1])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["valid_to"], days[1].as_str());
    let (s, v) = post_json(&app, &ct, &path, end("2099-12-31")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The third session now goes to self-pay: invoicing and the funding view agree.
    let f = app
        .get_json(
            &tt,
            &format!("/api/v1/trajectories/{}/funding", p.trajectory),
        )
        .await;
    let sessions_of = |k: &str| {
        f["usage"]
            .as_array()
            .expect("usage")
            .iter()
            .find(|u| u["contract"] == k)
            .map(|u| u["sessions"].clone())
    };
    assert_eq!(sessions_of(&module), Some(json!(2)), "{f}");
    assert_eq!(sessions_of(&own), Some(json!(1)), "{f}");
    let (s, v) = post_json(
        &app,
        &ct,
        "/api/v1/invoices",
        json!({"org": p.org, "payer_id": insurer, "from": "2026-01-01", "to": "2027-12-31"}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nothing left for the insurer: {v}"
    );
    let (s, v) = post_json(
        &app,
        &ct,
        "/api/v1/invoices",
        json!({"org": p.org, "payer_id": self_pay, "from": "2026-01-01", "to": "2027-12-31"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let inv = app
        .get_json(
            &ct,
            &format!("/api/v1/invoices/{}", v["id"].as_str().expect("id")),
        )
        .await;
    let lines = inv["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1, "{inv}");
    assert_eq!(lines[0]["service_date"], days[2].as_str());
    assert_eq!(lines[0]["cents"], 2_000);
    // On its last day, the session page warns that the contract ends.
    let seen = app
        .get_json(&tt, &format!("/api/v1/sessions/{}", p.sessions[1]))
        .await;
    let warnings = &seen["funding"]["participants"][0]["warnings"];
    assert!(
        warnings
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["kind"] == "contract_ends"
                && w["contract"] == module.as_str()
                && w["days_left"] == 1)),
        "{seen}"
    );
    // The page: the end date shows, an end before the billed day is refused with the reason.
    let client = app.session_for(&p.coord).await;
    let html = app.html(&client, &format!("/funding?org={}", p.org)).await;
    assert!(
        html.contains(&format!("2026-01-01 – {}", days[1]))
            && html.contains(&format!("action=\"/funding/contracts/{module}/end\"")),
        "{html}"
    );
    let r = app
        .post_form(
            &client,
            &format!("/funding/contracts/{own}/end"),
            &[("org", p.org.as_str()), ("valid_to", days[2].as_str())],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "on the day of its draft's last line"
    );
    let r = app
        .post_form(
            &client,
            &format!("/funding/contracts/{module}/end"),
            &[("org", p.org.as_str()), ("valid_to", days[0].as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("al gefactureerd na deze dag"),
        "the reason"
    );
    assert_eq!(app.audit_count_of("update", "contract", &module).await, 1);
    assert_eq!(app.audit_count_of("update", "contract", &own).await, 1);
}

#[tokio::test]
async fn the_session_page_warns_of_a_participant_whose_funding_limit_is_near_or_passed() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let ct = app.api_token(&p.coord).await;
    let tt = app.api_token(&p.therapist).await;
    let client = app.session_for(&p.therapist).await;
    let page = async |session: &str| app.html(&client, &format!("/sessions/{session}")).await;
    // Without funding there is no limit to warn of.
    assert!(!page(&p.sessions[1]).await.contains("funding-warning"));
    let seen = app
        .get_json(&tt, &format!("/api/v1/sessions/{}", p.sessions[1]))
        .await;
    assert_eq!(seen["funding"]["participants"], json!([]), "{seen}");
    // The insurer pays the intake and two sessions.
    let (_, module) = payer_with_contract(
        &app,
        &ct,
        &p.org,
        json!({"kind": "insurer", "name": "Zuiderzee"}),
        json!({"name": "Module", "valid_from": "2026-01-01", "max_sessions": "2",
               "tariffs": {"intake": "12", "group_session": "15"}}),
    )
    .await;
    set_sources(&app, &tt, &p.trajectory, &[&module]).await;
    attend(&app, &tt, &p.sessions[0], &p.trajectory).await;
    // Recording the next session uses the last one the insurer pays.
    let html = page(&p.sessions[1]).await;
    assert!(
        html.contains("Let op: Zuiderzee — Module vergoedt nog 0 sessie(s)."),
        "{html}"
    );
    assert!(!html.contains("wordt niet vergoed"), "{html}");
    let seen = app
        .get_json(&tt, &format!("/api/v1/sessions/{}", p.sessions[1]))
        .await;
    let mine = &seen["funding"]["participants"][0];
    assert_eq!(mine["trajectory_id"], p.trajectory.as_str(), "{seen}");
    assert!(mine["session_unfunded"].is_null(), "{seen}");
    assert_eq!(
        mine["warnings"],
        json!([{"kind": "sessions_left", "contract": module, "left": 0}]),
        "{seen}"
    );
    assert_eq!(
        seen["funding"]["contracts"],
        json!([[module, "Zuiderzee — Module"]])
    );
    // Once it is recorded, the session after it would not be paid for.
    attend(&app, &tt, &p.sessions[1], &p.trajectory).await;
    let html = page(&p.sessions[2]).await;
    assert!(
        html.contains("Deze sessie wordt niet vergoed: de grens van de financiering is bereikt."),
        "{html}"
    );
    let seen = app
        .get_json(&tt, &format!("/api/v1/sessions/{}", p.sessions[2]))
        .await;
    assert_eq!(
        seen["funding"]["participants"][0]["session_unfunded"], "limit",
        "{seen}"
    );
    // In English too.
    let _ = app.get(&client, "/lang/en").await;
    let html = page(&p.sessions[2]).await;
    assert!(
        html.contains("This session is not paid for: the funding limit has been reached."),
        "{html}"
    );
}

/// Invoices carry pseudonymous references, but who tried to open or change another
/// organisation's invoice is still worth knowing (ASVS 7.2.2): every refused look or change is
/// audit-logged as `denied` with the invoice and its organisation, and that organisation's
/// coordinator finds it.
#[tokio::test]
async fn refused_looks_at_and_changes_of_an_invoice_are_audit_logged_as_denied() {
    let app = TestApp::spawn().await;
    let DemoInvoices {
        coord: _,
        ct,
        org,
        list,
    } = demo_invoices(&app).await;
    let invoices = list["invoices"].as_array().expect("invoices");
    let id_where = |f: &dyn Fn(&Value) -> bool| {
        invoices
            .iter()
            .find(|i| f(i))
            .and_then(|i| i["id"].as_str())
            .expect("invoice")
            .to_string()
    };
    let draft = id_where(&|i| i["status"] == "draft");
    let sent = id_where(&|i| i["payer_name"] == "Zorgverzekeraar Zuiderzee");

    // A coordinator of another organisation: 404 for everything, each one logged.
    let (_, stranger) = coordinator_elsewhere(&app).await;
    let st = app.api_token(&stranger).await;
    let attempts = [
        (Method::GET, format!("/api/v1/invoices/{sent}")),
        (Method::GET, format!("/api/v1/invoices/{sent}/pdf")),
        (Method::POST, format!("/api/v1/invoices/{sent}/paid")),
        (Method::POST, format!("/api/v1/invoices/{sent}/credit")),
        (Method::POST, format!("/api/v1/invoices/{draft}/send")),
        (Method::DELETE, format!("/api/v1/invoices/{draft}")),
    ];
    for (method, path) in &attempts {
        let r = app
            .api(&st, method.clone(), path)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert_eq!(
        app.audit_count_outcome("read", "invoice", "denied").await,
        2
    );
    assert_eq!(
        app.audit_count_outcome("update", "invoice", "denied").await,
        1
    );
    assert_eq!(
        app.audit_count_outcome("create", "credit_note", "denied")
            .await,
        1
    );
    assert_eq!(
        app.audit_count_outcome("send", "invoice", "denied").await,
        1
    );
    assert_eq!(
        app.audit_count_outcome("delete", "invoice", "denied").await,
        1
    );

    // The insurer reads what was sent to it but changes nothing (403), and never sees a draft.
    let funder = app.demo_user("zorginkoop@zuiderzee.example").await;
    let ft = app.api_token(&funder).await;
    let r = app
        .api(&ft, Method::GET, &format!("/api/v1/invoices/{sent}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .api(
            &ft,
            Method::POST,
            &format!("/api/v1/invoices/{sent}/credit"),
        )
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .api(&ft, Method::GET, &format!("/api/v1/invoices/{draft}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.audit_count_outcome("create", "credit_note", "denied")
            .await,
        2
    );
    assert_eq!(
        app.audit_count_outcome("read", "invoice", "denied").await,
        3
    );

    // Nothing changed, and the practice's coordinator sees who tried what on its invoice.
    let after = app.get_json(&ct, &format!("/api/v1/invoices/{sent}")).await;
    assert_eq!(after["invoice"]["status"], "sent", "{after}");
    let log = app
        .get_json(&ct, &format!("/api/v1/audit?org={org}&record={sent}"))
        .await;
    let denied: Vec<&Value> = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 5, "{log}");
    assert!(
        denied
            .iter()
            .any(|e| e["actor_user_id"] == stranger.id.as_str() && e["action"] == "update")
    );
    assert!(
        denied
            .iter()
            .any(|e| e["actor_user_id"] == funder.id.as_str() && e["action"] == "create")
    );
}
