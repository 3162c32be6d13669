//! Training (first part): accepting a referral starts a trajectory with a plan and an easy
//! heart-rate zone; the therapist edits weeks within the method's limits.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::{offering_in, trajectory_for},
    helpers::TestApp,
};

#[tokio::test]
async fn accepting_a_referral_starts_a_trajectory_with_a_plan_and_an_easy_zone() {
    let app = TestApp::spawn().await;
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let therapist = app
        .user(
            "poh@medi-stad.example",
            false,
            &[(&org, Role::Therapist)],
            true,
        )
        .await;
    let referrer = app
        .user(
            "huisarts@medi-stad.example",
            false,
            &[(&org, Role::Referrer)],
            true,
        )
        .await;
    let (_, offering) = offering_in(&app, &org, &therapist.id).await;
    let id = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let token = app.api_token(&therapist).await;
    let r = app
        .api(&token, Method::GET, &format!("/api/v1/trajectories/{id}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["trajectory"]["hr_low"], 132,
        "Karvonen 60 % of (180 - 60) + 60"
    );
    assert_eq!(v["trajectory"]["hr_high"], 150);
    assert_eq!(v["trajectory"]["start_level"], "walker");
    assert_eq!(
        v["trajectory"]["start_date"], "2027-01-12",
        "a group starts on its start date"
    );
    let weeks = v["plan"]["weeks"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks[0]["session"]["kind"], "intervals");
    assert_eq!(
        weeks[11]["session"],
        json!({"kind": "continuous", "minutes": 30})
    );
    assert!(weeks.iter().all(|w| w["sessions"] == 3));
    // The therapist adjusts a week, within the method's limits.
    let bad = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/trajectories/{id}/weeks/2"),
        )
        .json(&json!({"kind": "continuous", "sessions": "6", "minutes": "20"}))
        .send()
        .await
        .expect("req");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app.api(&token, Method::PUT, &format!("/api/v1/trajectories/{id}/weeks/2")).json(&json!({"kind": "intervals", "sessions": "2", "run_min": "1", "walk_min": "2", "repeats": "6"})).send().await.expect("req");
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let v: Value = app
        .api(&token, Method::GET, &format!("/api/v1/trajectories/{id}"))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(v["plan"]["weeks"][1]["sessions"], 2);
    // The page shows the plan in Dutch; the referral page links to it.
    let client = app.session_for(&therapist).await;
    let html = app
        .get(&client, &format!("/trajectories/{id}"))
        .await
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("132–150")
            && html.contains("Week 12")
            && html.contains("30 minuten rustig doorlopen"),
        "{html}"
    );
    let referral = v["trajectory"]["referral_id"].as_str().expect("referral");
    let html = app
        .get(&client, &format!("/referrals/{referral}"))
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains(&format!("/trajectories/{id}")));
    // The referrer follows the referral, not the training plan.
    let gp = app.api_token(&referrer).await;
    let r = app
        .api(&gp, Method::GET, &format!("/api/v1/trajectories/{id}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        app.audit_count("create", "trajectory").await == 1
            && app.audit_count("update", "plan").await == 1
    );
}
