//! The front door (SPEC C2–C4): directory search, referral, invitation, intake and screening,
//! decision, privacy, reassignment and response reminders — through the API and the pages.

use duurloop::cli::demo;
use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::referral_to,
    helpers::{TestApp, TestUser, link_in},
};

/// A GP practice with a coordinator, a therapist running one offering, and a referrer.
struct Practice {
    org: String,
    coordinator: TestUser,
    therapist: TestUser,
    referrer: TestUser,
    offering: String,
}

async fn practice(app: &TestApp) -> Practice {
    let crate::authz::Practice {
        org,
        therapist,
        referrer,
        offering,
    } = crate::authz::medi_stad(app).await;
    let coordinator = app
        .user(
            "coord@medi-stad.example",
            false,
            &[(&org, Role::Coordinator)],
            true,
        )
        .await;
    Practice {
        org,
        coordinator,
        therapist,
        referrer,
        offering,
    }
}

fn referral_json(offering: &str) -> Value {
    json!({
        "offering_id": offering,
        "client_name": "Jan Jansen",
        "client_email": "jan@example.nl",
        "client_phone": "06-12345678",
        "client_postcode": "8232 ab",
        "indications": ["stress", "sleep"],
        "medication": "sertraline 50 mg",
        "motivation": "high",
        "funding_route": "gp_module",
        "consent": "yes",
        "submission_key": "form-1"
    })
}

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.api(token, method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

fn screen(yes: &[&str]) -> Value {
    let qs = [
        "heart_condition_or_high_blood_pressure",
        "chest_pain",
        "dizziness_or_fainting",
        "other_chronic_condition",
        "medication_for_chronic_condition",
        "bone_joint_problem",
        "medically_supervised_only",
    ];
    let map: serde_json::Map<String, Value> = qs
        .iter()
        .map(|q| {
            (
                q.to_string(),
                json!(if yes.contains(q) { "yes" } else { "no" }),
            )
        })
        .collect();
    Value::Object(map)
}

#[tokio::test]
async fn search_finds_the_nearest_listed_offerings_with_filters_and_without_login() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let hits: Value = public_json(&app, "/api/v1/offerings?postcode=8232%20AB").await;
    let hits = hits.as_array().expect("array");
    assert_eq!(
        hits.len(),
        2,
        "only the two Lelystad groups lie within 25 km: {hits:?}"
    );
    assert!(hits.iter().all(|h| h["place"] == "Lelystad"));
    assert!(
        hits[0]["title"]
            .as_str()
            .expect("title")
            .contains("Medi-Stad")
    );
    assert!(hits[0]["distance_km"].as_f64().expect("distance") < 5.0);
    assert_eq!(hits[0]["certified"], true);
    let far: Value = public_json(&app, "/api/v1/offerings?postcode=8232&radius_km=300").await;
    let far = far.as_array().expect("array");
    assert_eq!(far.len(), 4);
    assert!(
        far[0]["distance_km"].as_f64() < far[3]["distance_km"].as_f64(),
        "nearest first"
    );
    let individual: Value = public_json(&app, "/api/v1/offerings?kind=running_individual").await;
    assert_eq!(individual.as_array().map(Vec::len), Some(1));
    let monday: Value = public_json(
        &app,
        "/api/v1/offerings?weekday=1&funding=uwv&indication=burnout",
    )
    .await;
    assert!(
        monday
            .as_array()
            .expect("array")
            .iter()
            .all(|h| h["org_name"] == "Runningtherapie Groningen")
    );
    let bad = reqwest::get(app.url("/api/v1/offerings?postcode=0123%20AB"))
        .await
        .expect("req");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.json::<Value>().await.expect("json")["error"]["fields"]["postcode"]
            .as_str()
            .expect("msg")
            .contains("postcode")
    );
    let page = reqwest::get(app.url("/zoeken?postcode=8232"))
        .await
        .expect("req")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Runningtherapie Medi-Stad") && page.contains("BRTN-geregistreerd"));
    let page = reqwest::get(app.url("/zoeken?postcode=12"))
        .await
        .expect("req")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Vul een Nederlandse postcode in"));
}

#[tokio::test]
async fn a_therapist_maintains_the_directory_and_a_coordinator_curates_the_list() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let token = app.api_token(&p.therapist).await;
    let (s, v) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/organisations/{}/locations", p.org),
        Some(json!({"name": "Park", "address": "Parkweg 1", "postcode": "1000 AA", "place": "X"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, loc) = call(&app, &token, Method::POST, &format!("/api/v1/organisations/{}/locations", p.org), Some(json!({"name": "Stadspark", "address": "Concourslaan 17", "postcode": "9727 KC", "place": "Groningen"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, t) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/organisations/{}/therapists", p.org),
        Some(json!({"name": "Eva", "profession": "psycholoog", "brtn_status": "registered"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "registered needs a number"
    );
    assert!(t["error"]["fields"]["brtn_number"].is_string());
    let (s, t) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/organisations/{}/therapists", p.org),
        Some(json!({"name": "Eva", "profession": "psycholoog", "brtn_status": "in_training"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let lid = loc["id"].as_str().expect("id").to_string();
    let (s, _) = call(&app, &token, Method::PUT, &format!("/api/v1/locations/{lid}"), Some(json!({"name": "Noorderplantsoen", "address": "Kruissingel 1", "postcode": "9712", "place": "Groningen"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        &token,
        Method::PUT,
        &format!("/api/v1/locations/{lid}"),
        Some(json!({"name": "X", "address": "Y", "postcode": "12", "place": "Z"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let tid = t["id"].as_str().expect("id").to_string();
    let (s, _) = call(&app, &token, Method::PUT, &format!("/api/v1/therapists/{tid}"), Some(json!({"name": "Eva Mulder", "profession": "psycholoog", "brtn_status": "registered", "brtn_number": "BRTN-0198"}))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, d) = call(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/organisations/{}/directory", p.org),
        None,
    )
    .await;
    assert!(
        d["therapists"]
            .as_array()
            .expect("therapists")
            .iter()
            .any(|x| x["name"] == "Eva Mulder" && x["brtn_status"] == "registered")
    );
    let mut offering = json!({
        "title": "Wandelgroep Groningen", "kind": "walking_group", "schedule": "woensdag 10:00",
        "weekdays": ["3"], "start_date": "2027-02-03", "weeks": "10", "capacity": "0", "price": "12,5",
        "funding": ["municipality"], "indications": ["condition"], "therapist_id": t["id"], "location_id": loc["id"]
    });
    let (s, v) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/organisations/{}/offerings", p.org),
        Some(offering.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["capacity"].is_string());
    offering["capacity"] = json!("12");
    let (s, created) = call(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/organisations/{}/offerings", p.org),
        Some(offering),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = created["id"].as_str().expect("id").to_string();
    let (_, o) = call(
        &app,
        &token,
        Method::GET,
        &format!("/api/v1/offerings/{id}"),
        None,
    )
    .await;
    assert_eq!(o["price_cents"], 1250);
    assert_eq!(
        o["certified"],
        Value::Null,
        "the offering row itself has no badge; search hits do"
    );
    let (s, _) = call(
        &app,
        &token,
        Method::PUT,
        &format!("/api/v1/offerings/{id}/listing"),
        Some(json!({"listed": false})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "curating is for coordinators");
    let coord = app.api_token(&p.coordinator).await;
    let (s, _) = call(
        &app,
        &coord,
        Method::PUT,
        &format!("/api/v1/offerings/{id}/listing"),
        Some(json!({"listed": false})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let public: Value = public_json(&app, "/api/v1/offerings?kind=walking_group").await;
    assert_eq!(
        public.as_array().map(Vec::len),
        Some(0),
        "unlisted offerings are not found"
    );
    assert_eq!(
        reqwest::get(app.url(&format!("/aanbod/{id}")))
            .await
            .expect("req")
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.audit_count("unlist", "offering").await, 1);
}

#[tokio::test]
async fn a_referral_goes_from_referrer_to_therapist_through_intake_screening_and_decision() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let gp = app.api_token(&p.referrer).await;
    let poh = app.api_token(&p.therapist).await;
    let (s, c) = call(
        &app,
        &gp,
        Method::POST,
        "/api/v1/referrals",
        Some(referral_json(&p.offering)),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().expect("id").to_string();
    let (s, again) = call(
        &app,
        &gp,
        Method::POST,
        "/api/v1/referrals",
        Some(referral_json(&p.offering)),
    )
    .await;
    assert_eq!(
        (s, again["id"].as_str(), again["duplicate"].as_bool()),
        (StatusCode::OK, Some(id.as_str()), Some(true)),
        "a double submission makes one referral"
    );
    let (s, list) = call(&app, &poh, Method::GET, "/api/v1/referrals", None).await;
    assert_eq!(
        (s, list[0]["id"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    assert_eq!(
        app.audit_count_of("show", "referral", &id).await,
        1,
        "the list named the client"
    );
    assert!(
        app.last_mail_to(&p.therapist.email)
            .await
            .expect("therapist told")
            .subject
            .contains("Nieuwe verwijzing")
    );
    // A decision before the intake is refused by the status machine.
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/decision"),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (_, r) = call(
        &app,
        &poh,
        Method::GET,
        &format!("/api/v1/referrals/{id}"),
        None,
    )
    .await;
    assert_eq!(
        r["referral"]["status"], "received",
        "the therapist's first look marks it received"
    );
    assert_eq!(r["referral"]["client_phone"], "+31612345678");
    assert_eq!(r["referral"]["client_postcode"], "8232 AB");
    let (s, _) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/invite"),
        Some(json!({"intake_at": "di 3 dec 10:00", "trial_at": "za 7 dec 9:00"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let invitation = app
        .last_mail_to("jan@example.nl")
        .await
        .expect("client invited");
    let link = link_in(&invitation.body_text, &app.base);
    let page = app
        .get(&app.browser(), &link)
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains("di 3 dec 10:00") && page.contains("za 7 dec 9:00"));
    app.post_form(&app.browser(), &link, &[]).await;
    let (s, _) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/plan-intake"),
        Some(json!({"planned_for": "di 3 dec 10:00"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/intake"),
        Some(json!({"screen": {"chest_pain": "yes"}})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "every screen question must be answered: {v}"
    );
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/intake"),
        Some(json!({"screen": screen(&["chest_pain"]), "resting_hr": "250", "age": "44"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["resting_hr"].is_string());
    let (s, v) = call(&app, &poh, Method::POST, &format!("/api/v1/referrals/{id}/intake"), Some(json!({"screen": screen(&["chest_pain"]), "resting_hr": "62", "age": "44", "goals": "weer lekker slapen"}))).await;
    assert_eq!((s, v["flagged"].as_bool()), (StatusCode::OK, Some(true)));
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/decision"),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("clearance-required")),
        "a flagged screen blocks the start"
    );
    let (s, _) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/clearance"),
        Some(json!({"by": "huisarts P. Jansen", "date": "2026-13-01"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/clearance"),
        Some(json!({"by": "huisarts P. Jansen", "date": "2026-11-20", "note": "akkoord na ECG"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{id}/decision"),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
    // The referrer sees every step.
    let (_, r) = call(
        &app,
        &gp,
        Method::GET,
        &format!("/api/v1/referrals/{id}"),
        None,
    )
    .await;
    assert_eq!(r["referral"]["status"], "accepted");
    let kinds: Vec<String> = r["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["kind"].as_str().unwrap_or(""),
                e["to_status"].as_str().unwrap_or("")
            )
        })
        .collect();
    for step in [
        "created:sent",
        "status:received",
        "status:invited",
        "trial:",
        "client_confirmed:",
        "status:intake_planned",
        "intake_flagged:",
        "clearance:",
        "status:accepted",
    ] {
        assert!(
            kinds.contains(&step.to_string()),
            "{step} missing from {kinds:?}"
        );
    }
    let mail = app
        .last_mail_to(&p.referrer.email)
        .await
        .expect("referrer told");
    assert!(mail.subject.contains("aangenomen"));
    assert!(
        !mail.body_text.contains("Jan Jansen"),
        "no client details in e-mail"
    );
    let html = app
        .get(
            &app.session_for(&p.referrer).await,
            &format!("/referrals/{id}"),
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("aangenomen") && html.contains("medisch akkoord vastgelegd"));
    assert!(app.audit_count("read", "referral").await >= 2);
    assert!(app.audit_count("update", "intake").await >= 1);
}

#[tokio::test]
async fn referrals_stay_private_to_their_referrer_therapist_and_coordinator() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let colleague = app
        .user(
            "collega@medi-stad.example",
            false,
            &[(&p.org, Role::Referrer)],
            true,
        )
        .await;
    let other_org = app.org("Elders", OrgKind::TherapistPractice).await;
    let other_therapist = app
        .user(
            "t@elders.example",
            false,
            &[(&other_org, Role::Therapist)],
            true,
        )
        .await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let funder = app
        .user(
            "f@gemeente.example",
            false,
            &[(&p.org, Role::Funder)],
            false,
        )
        .await;
    let id = referral_to(&app, &p.offering, &p.referrer).await;
    for (who, u) in [
        ("colleague", &colleague),
        ("other therapist", &other_therapist),
        ("admin", &admin),
        ("funder", &funder),
    ] {
        let t = app.api_token(u).await;
        let (s, _) = call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{who} must not see the referral");
        let (_, list) = call(&app, &t, Method::GET, "/api/v1/referrals", None).await;
        assert_eq!(
            list.as_array().map(Vec::len),
            Some(0),
            "{who} lists nothing"
        );
    }
    for u in [&p.referrer, &p.therapist, &p.coordinator] {
        let t = app.api_token(u).await;
        let (s, _) = call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    // The coordinator lets the practice's referrers see each other's referrals.
    let coord = app.session_for(&p.coordinator).await;
    app.post_form(
        &coord,
        &format!("/organisations/{}/share-referrals", p.org),
        &[("share", "1")],
    )
    .await;
    let t = app.api_token(&colleague).await;
    let (s, _) = call(
        &app,
        &t,
        Method::GET,
        &format!("/api/v1/referrals/{id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "shared within the practice");
    // Over the API the coordinator stops it, and starts it again.
    let coord_token = app.api_token(&p.coordinator).await;
    for (share, seen) in [(false, StatusCode::NOT_FOUND), (true, StatusCode::OK)] {
        let (s, _) = call(
            &app,
            &coord_token,
            Method::PUT,
            &format!("/api/v1/organisations/{}/share-referrals", p.org),
            Some(json!({ "share": share })),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = call(
            &app,
            &t,
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            None,
        )
        .await;
        assert_eq!(s, seen, "shared: {share}");
    }
    let (s, _) = call(
        &app,
        &t,
        Method::POST,
        &format!("/api/v1/referrals/{id}/invite"),
        Some(json!({"intake_at": "morgen"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a referrer cannot act as therapist"
    );
    let denied: (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE record_type = 'referral' AND outcome = 'denied'")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert!(denied.0 >= 4, "refused looks are audit-logged too");
}

#[tokio::test]
async fn bad_referral_input_is_explained_field_by_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let gp = app.api_token(&p.referrer).await;
    let mut body = referral_json(&p.offering);
    body["client_email"] = json!("jan@");
    body["client_phone"] = json!("12345");
    body["client_postcode"] = json!("0123 AB");
    body["indications"] = json!(["hoofdpijn"]);
    body["consent"] = json!("");
    let (s, v) = call(&app, &gp, Method::POST, "/api/v1/referrals", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "client_email",
        "client_phone",
        "client_postcode",
        "indications",
        "consent",
    ] {
        assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
    }
    let mut body = referral_json(&p.offering);
    body["client_email"] = json!("");
    body["client_phone"] = json!("");
    let (s, v) = call(&app, &gp, Method::POST, "/api/v1/referrals", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["fields"]["client_email"]
            .as_str()
            .expect("msg")
            .contains("telefoonnummer")
    );
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM referrals")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 0);
    // The page form says the same in Dutch and keeps what was typed.
    let client = app.session_for(&p.referrer).await;
    let r = app
        .post_form(
            &client,
            "/referrals",
            &[
                ("offering_id", &p.offering),
                ("client_name", "Jan Jansen"),
                ("client_email", "jan@"),
                ("submission_key", "k"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("Vul een geldig e-mailadres in")
            && html.contains("Zonder toestemming")
            && html.contains("value=\"Jan Jansen\"")
    );
}

#[tokio::test]
async fn a_referral_to_a_full_offering_goes_to_its_waiting_list() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    sqlx::query("UPDATE offerings SET capacity = 1")
        .execute(&app.state.db.pool)
        .await
        .expect("capacity");
    let poh = app.api_token(&p.therapist).await;
    let first = referral_to(&app, &p.offering, &p.referrer).await;
    for (path, body) in [
        ("plan-intake", json!({"planned_for": "maandag"})),
        ("intake", json!({"screen": screen(&[])})),
        ("decision", json!({"decision": "accept"})),
    ] {
        let (s, v) = call(
            &app,
            &poh,
            Method::POST,
            &format!("/api/v1/referrals/{first}/{path}"),
            Some(body),
        )
        .await;
        assert!(s.is_success(), "{path}: {v}");
    }
    let gp = app.api_token(&p.referrer).await;
    let mut body = referral_json(&p.offering);
    body["submission_key"] = json!("second");
    let (s, c) = call(&app, &gp, Method::POST, "/api/v1/referrals", Some(body)).await;
    assert_eq!(
        (s, c["waitlist"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    let second = c["id"].as_str().expect("id");
    let (_, r) = call(
        &app,
        &gp,
        Method::GET,
        &format!("/api/v1/referrals/{second}"),
        None,
    )
    .await;
    assert!(
        r["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["kind"] == "waitlist_notice")
    );
    call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{second}/plan-intake"),
        Some(json!({"planned_for": "dinsdag"})),
    )
    .await;
    call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{second}/intake"),
        Some(json!({"screen": screen(&[])})),
    )
    .await;
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{second}/decision"),
        Some(json!({"decision": "accept"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("offering-full"))
    );
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{second}/decision"),
        Some(json!({"decision": "waitlist"})),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("waitlisted"))
    );
    let (s, v) = call(
        &app,
        &poh,
        Method::POST,
        &format!("/api/v1/referrals/{second}/decision"),
        Some(json!({"decision": "not_suitable"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required: {v}"
    );
}

#[tokio::test]
async fn a_client_registers_themself_without_an_account() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let client = app.browser();
    let form = app
        .html(&client, &format!("/aanmelden?offering={}", p.offering))
        .await;
    let key = form
        .split("name=\"submission_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("key")
        .to_string();
    let fields = [
        ("offering_id", p.offering.as_str()),
        ("client_name", "Fatima el Idrissi"),
        ("client_email", "fatima@example.nl"),
        ("indications", "anxiety_panic"),
        ("indications", "sleep"),
        ("motivation", "high"),
        ("funding_route", "self_pay"),
        ("consent", "yes"),
        ("submission_key", key.as_str()),
    ];
    let r = app.post_form(&client, "/aanmelden", &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Uw aanmelding is verstuurd")
    );
    app.post_form(&client, "/aanmelden", &fields).await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT source, indications FROM referrals")
        .fetch_all(&app.state.db.pool)
        .await
        .expect("rows");
    assert_eq!(
        rows,
        vec![(
            "self_registration".to_string(),
            ",anxiety_panic,sleep,".to_string()
        )],
        "one referral despite the double submit"
    );
    let poh = app.api_token(&p.therapist).await;
    let (_, list) = call(&app, &poh, Method::GET, "/api/v1/referrals", None).await;
    assert_eq!(list[0]["client_name"], "Fatima el Idrissi");
}

#[tokio::test]
async fn a_movement_broker_triages_a_region_referral_to_an_offering() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let region = app
        .org("Beweegmakelaars Deventer", OrgKind::CareGroup)
        .await;
    let broker = app
        .user(
            "makelaar@deventer.example",
            false,
            &[(&region, Role::Coordinator)],
            true,
        )
        .await;
    let gp = app.api_token(&p.referrer).await;
    let mut body = referral_json("");
    body["region_org_id"] = json!(region);
    let (s, c) = call(&app, &gp, Method::POST, "/api/v1/referrals", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().expect("id");
    assert!(
        app.last_mail_to(&broker.email).await.is_some(),
        "the broker is told"
    );
    let poh = app.api_token(&p.therapist).await;
    let (s, _) = call(
        &app,
        &poh,
        Method::GET,
        &format!("/api/v1/referrals/{id}"),
        None,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "not the therapist's until assigned"
    );
    let b = app.api_token(&broker).await;
    let (s, _) = call(
        &app,
        &b,
        Method::POST,
        &format!("/api/v1/referrals/{id}/reassign"),
        Some(json!({"offering_id": p.offering})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, r) = call(
        &app,
        &poh,
        Method::GET,
        &format!("/api/v1/referrals/{id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        r["referral"]["offering_id"].as_str(),
        Some(p.offering.as_str())
    );
    assert!(
        r["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["kind"] == "reassigned")
    );
}

#[tokio::test]
async fn an_unanswered_referral_reminds_the_therapist_then_the_coordinator() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    referral_to(&app, &p.offering, &p.referrer).await;
    let reminders = |to: &'static str| {
        let pool = app.state.db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE kind = 'referral_reminder' AND to_addr = $1")
                .bind(to)
                .fetch_one(&pool)
                .await
                .expect("count");
            n
        }
    };
    use duurloop::app::referrals::send_response_reminders;
    assert_eq!(
        send_response_reminders(&app.state).await.expect("run"),
        0,
        "within the target"
    );
    app.clock.advance_ms(5 * 86_400_000);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 1);
    assert_eq!(reminders("poh@medi-stad.example").await, 1);
    assert_eq!(
        send_response_reminders(&app.state).await.expect("run"),
        0,
        "once"
    );
    app.clock.advance_ms(5 * 86_400_000);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 1);
    assert_eq!(reminders("coord@medi-stad.example").await, 1);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 0);
}

/// Self-registration needs no account and mails the therapist: after three for one address
/// within the hour the next is refused (and logged), so nobody floods a practice.
#[tokio::test]
async fn self_registrations_for_one_address_are_limited() {
    let app = TestApp::spawn().await;
    let p = practice(&app).await;
    let client = app.browser();
    let fields = [
        ("offering_id", p.offering.as_str()),
        ("client_name", "Fatima el Idrissi"),
        ("client_email", "fatima@example.nl"),
        ("indications", "sleep"),
        ("motivation", "high"),
        ("funding_route", "self_pay"),
        ("consent", "yes"),
    ];
    for _ in 0..3 {
        let r = app.post_form(&client, "/aanmelden", &fields).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app.post_form(&client, "/aanmelden", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("te veel aanmeldingen")
    );
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM referrals")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 3);
    let (throttled,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'create' \
         AND record_type = 'referral' AND outcome = 'throttled'",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(throttled, 1);
}

/// The public register of therapists (SPEC §2a): everyone with a listed offering, with their
/// registration, nearest first from a postcode or found by name; page and API, no login.
#[tokio::test]
async fn the_public_register_lists_therapists_nearest_first_and_by_name() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let all: Value = public_json(&app, "/api/v1/therapists").await;
    let names: Vec<&str> = all
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["Eva Mulder", "Henk Bakker", "Marieke de Boer"],
        "{all}"
    );
    // From Lelystad: the Medi-Stad therapist only, with her registration and offerings.
    let near: Value = public_json(&app, "/api/v1/therapists?postcode=8232%20AB").await;
    let near = near.as_array().expect("list");
    assert_eq!(near.len(), 1, "{near:?}");
    assert_eq!(near[0]["name"], "Marieke de Boer");
    assert_eq!(near[0]["certified"], true);
    assert_eq!(near[0]["brtn_number"], "BRTN-0412");
    assert!(near[0]["distance_km"].as_f64().expect("distance") < 5.0);
    assert!(near[0]["offerings"].as_array().expect("offerings").len() >= 2);
    // By name, on the page, without signing in.
    let html = app.html(&app.browser(), "/therapeuten?name=eva").await;
    assert!(
        html.contains("Eva Mulder") && !html.contains("Henk Bakker"),
        "{html}"
    );
    assert!(html.contains("BRTN-registratie BRTN-0198"), "{html}");
    // Bad input is explained; an unlisted therapist is not public.
    let r = reqwest::get(app.url("/api/v1/therapists?postcode=12"))
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = app.html(&app.browser(), "/therapeuten?postcode=12").await;
    assert!(
        html.contains("id=\"form-errors\"") && html.contains("Nederlandse postcode"),
        "{html}"
    );
    sqlx::query(
        "UPDATE offerings SET listed = 0 WHERE therapist_id IN \
         (SELECT id FROM therapists WHERE name = 'Henk Bakker')",
    )
    .execute(&app.state.db.pool)
    .await
    .expect("unlist");
    let all: Value = public_json(&app, "/api/v1/therapists").await;
    assert!(!all.to_string().contains("Henk Bakker"), "{all}");
}

/// A public API answer as JSON (no login).
async fn public_json(app: &TestApp, path: &str) -> Value {
    reqwest::get(app.url(path))
        .await
        .expect("req")
        .json()
        .await
        .expect("json")
}
