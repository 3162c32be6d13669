//! Training (first part): accepting a referral starts a trajectory with a plan and an easy
//! heart-rate zone; the therapist edits weeks within the method's limits.

use duurloop_domain::{OrgKind, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    authz::{Practice, first_session, medi_stad, offering_in, trajectory_for},
    helpers::TestApp,
};

#[tokio::test]
async fn accepting_a_referral_starts_a_trajectory_with_a_plan_and_an_easy_zone() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
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
    let html = app.html(&client, &format!("/trajectories/{id}")).await;
    assert!(
        html.contains("132–150")
            && html.contains("Week 12")
            && html.contains("30 minuten rustig doorlopen"),
        "{html}"
    );
    let referral = v["trajectory"]["referral_id"].as_str().expect("referral");
    let html = app.html(&client, &format!("/referrals/{referral}")).await;
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

#[tokio::test]
async fn a_weekly_time_makes_the_sessions_and_attendance_takes_one_tap() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let session = first_session(&app, &offering, &therapist).await;
    let token = app.api_token(&therapist).await;
    // Saturday 9:00 as well, over the API; bad input is explained.
    let bad = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/offerings/{offering}/slots"),
        )
        .json(&json!({"weekday": "6", "start_time": "25:00"}))
        .send()
        .await
        .expect("req");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/offerings/{offering}/slots"),
        )
        .json(&json!({"weekday": "6", "start_time": "9:00"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let g: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/offerings/{offering}/group"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let sessions = g["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 24, "12 weeks of Tuesdays and Saturdays");
    assert_eq!(sessions[0]["session_date"], "2027-01-12");
    assert_eq!(sessions[1]["session_date"], "2027-01-16");
    assert_eq!(sessions[1]["start_time"], "09:00");
    // One tap on the phone page records attendance; a note can be added.
    let client = app.session_for(&therapist).await;
    let r = app
        .post_form(
            &client,
            &format!("/sessions/{session}/attendance/{trajectory}"),
            &[("status", "present"), ("note", "mooie rechte houding")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s: Value = app
        .api(&token, Method::GET, &format!("/api/v1/sessions/{session}"))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(s["participants"][0]["status"], "present");
    assert_eq!(s["participants"][0]["note"], "mooie rechte houding");
    let html = app.html(&client, &format!("/sessions/{session}")).await;
    assert!(html.contains("aria-pressed=\"true\"") && html.contains("aanwezig"));
    // The group (API) and the session (page, API) listed the participant by name: logged
    // per participant, not only as a view of the list.
    assert_eq!(
        app.audit_count_of("show", "trajectory", &trajectory).await,
        3
    );
    // Per participant, the therapist sees the attendance with its notes (page and API).
    let html = app
        .html(&client, &format!("/trajectories/{trajectory}"))
        .await;
    assert!(
        html.contains("2027-01-12 19:00: aanwezig — mooie rechte houding"),
        "{html}"
    );
    let t: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/trajectories/{trajectory}"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(t["attendance"][0]["note"], "mooie rechte houding");
    // Reports read the counts the store keeps per trajectory; a correction moves them.
    assert_eq!(sessions_counted(&app, &trajectory).await, (1, 1));
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/sessions/{session}/attendance/{trajectory}"),
        )
        .json(&json!({"status": "absent_notice"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(sessions_counted(&app, &trajectory).await, (1, 0));
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/sessions/{session}/attendance/{trajectory}"),
        )
        .json(&json!({"status": "weg"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Cancelling tells the participants and closes the register.
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/sessions/{session}/cancel"),
        )
        .json(&json!({"reason": "onweer"}))
        .send()
        .await
        .expect("req");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["notified"], 1);
    let mail = app
        .last_mail_to("jan@example.nl")
        .await
        .expect("participant told");
    assert!(mail.subject.contains("gaat niet door") && mail.body_text.contains("onweer"));
    // In the portal the session stays among the next ones, shown as called off with the reason.
    let portal = app.portal_api_session("jan@example.nl").await;
    let home = app.get_json(&portal, "/api/v1/portal").await;
    let listed = home["next_sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["id"] == session.as_str())
        .expect("the cancelled session is still listed");
    assert_eq!(listed["cancel_reason"], "onweer");
    assert!(listed["cancelled_at"].is_i64());
    let page = app
        .browser()
        .get(app.url("/portal"))
        .header("Cookie", format!("dl_portal={portal}"))
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("class=\"cancelled\"") && page.contains("afgelast</strong>: onweer"),
        "{page}"
    );
    let r = app
        .api(
            &token,
            Method::PUT,
            &format!("/api/v1/sessions/{session}/attendance/{trajectory}"),
        )
        .json(&json!({"status": "present"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        app.audit_count("update", "attendance").await >= 1
            && app.audit_count("cancel", "group_session").await == 1
    );
}

/// A trajectory's (sessions recorded, sessions attended) as the store keeps them for reports.
async fn sessions_counted(app: &TestApp, trajectory: &str) -> (i64, i64) {
    sqlx::query_as("SELECT sessions_recorded, sessions_attended FROM trajectories WHERE id = $1")
        .bind(trajectory)
        .fetch_one(&mut *app.conn().await)
        .await
        .expect("counts")
}

#[tokio::test]
async fn a_therapist_subscribes_to_their_sessions_with_a_secret_calendar_link() {
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
    let (_, offering) = offering_in(&app, &org, &therapist.id).await;
    let session = first_session(&app, &offering, &therapist).await;
    let token = app.api_token(&therapist).await;
    app.api(
        &token,
        Method::POST,
        &format!("/api/v1/sessions/{session}/cancel"),
    )
    .json(&json!({"reason": "storm"}))
    .send()
    .await
    .expect("req");
    let client = app.session_for(&therapist).await;
    let html = app
        .post_form(&client, "/account/calendar", &[])
        .await
        .text()
        .await
        .expect("body");
    let link = html
        .split("id=\"calendar-link\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("link shown")
        .to_string();
    let r = reqwest::get(&link).await.expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/calendar")
    );
    let ics = r.text().await.expect("body");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 12);
    assert!(ics.contains("DTSTART;TZID=Europe/Amsterdam:20270112T190000"));
    assert!(ics.contains("DTEND;TZID=Europe/Amsterdam:20270112T200000"));
    assert!(ics.contains("LOCATION:Agorabaan 12\\, Lelystad"));
    assert_eq!(ics.matches("STATUS:CANCELLED").count(), 1);
    assert!(!ics.contains("Jan"), "no participant data in a feed");
    // A new link replaces the old one.
    let v: Value = app
        .api(&token, Method::POST, "/api/v1/calendar-feed")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert!(v["url"].as_str().expect("url").ends_with(".ics"));
    assert_eq!(
        reqwest::get(&link).await.expect("req").status(),
        StatusCode::NOT_FOUND
    );
}

/// Changes a trajectory's status over the API (`{"action": …}`) and returns the answer.
async fn trajectory_status(
    app: &TestApp,
    token: &str,
    trajectory: &str,
    body: Value,
) -> reqwest::Response {
    app.api(
        token,
        Method::POST,
        &format!("/api/v1/trajectories/{trajectory}/status"),
    )
    .json(&body)
    .send()
    .await
    .expect("req")
}

/// A group of one place, taken by a first participant (their trajectory id), and the
/// therapist's API token.
async fn full_group(app: &TestApp, p: &Practice) -> (String, String) {
    sqlx::query("UPDATE offerings SET capacity = 1")
        .execute(&app.state.db.pool)
        .await
        .expect("capacity");
    let first = trajectory_for(app, &p.offering, &p.referrer, &p.therapist).await;
    (first, app.api_token(&p.therapist).await)
}

/// A new referral to the group that has its intake and is put on the waiting list, over the API.
async fn waitlisted(app: &TestApp, p: &Practice, token: &str) -> String {
    let id = crate::authz::referral_to(app, &p.offering, &p.referrer).await;
    let screen: serde_json::Map<String, Value> = duurloop::app::referrals::screen_questions()
        .into_iter()
        .map(|q| (q.to_string(), json!("no")))
        .collect();
    for (path, body) in [
        ("plan-intake", json!({"planned_for": "vrijdag"})),
        ("intake", json!({"screen": screen})),
        ("decision", json!({"decision": "waitlist"})),
    ] {
        let r = app
            .api(
                token,
                Method::POST,
                &format!("/api/v1/referrals/{id}/{path}"),
            )
            .json(&body)
            .send()
            .await
            .expect("req");
        assert!(r.status().is_success(), "{path}");
    }
    id
}

#[tokio::test]
async fn a_drop_out_frees_a_place_that_is_offered_to_the_longest_waiting_person() {
    let app = TestApp::spawn().await;
    let practice = medi_stad(&app).await;
    // A second client gets the intake but waits for a place.
    let (first, token) = full_group(&app, &practice).await;
    let second = waitlisted(&app, &practice, &token).await;
    let r = trajectory_status(&app, &token, &first, json!({"action": "drop_out"})).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is needed"
    );
    let r = trajectory_status(
        &app,
        &token,
        &first,
        json!({"action": "drop_out", "reason": "verhuisd"}),
    )
    .await;
    assert_eq!(
        r.json::<Value>().await.expect("json")["status"],
        "dropped_out"
    );
    let v: Value = app
        .api(&token, Method::GET, &format!("/api/v1/referrals/{second}"))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert!(
        v["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["kind"] == "place_offered")
    );
    let offer = app
        .last_mail_to("jan@example.nl")
        .await
        .expect("client told");
    assert!(offer.subject.contains("plek vrij"));
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/referrals/{second}/decision"),
        )
        .json(&json!({"decision": "accept"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK, "the freed place can be taken");
    // Start and completion follow the status machine; the referrer hears.
    let next = duurloop::app::trajectories::for_referral(&app.state, &second)
        .await
        .expect("lookup")
        .expect("trajectory");
    let r = trajectory_status(&app, &token, &next, json!({"action": "complete"})).await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "completing needs a start first"
    );
    for action in ["start", "complete"] {
        let r = trajectory_status(&app, &token, &next, json!({"action": action})).await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let mail = app
        .last_mail_to("huisarts@medi-stad.example")
        .await
        .expect("referrer told");
    assert!(mail.subject.contains("afgerond"));
}

/// How often a referral was offered a place, from its timeline as the API shows it.
async fn places_offered(app: &TestApp, token: &str, referral: &str) -> usize {
    app.get_json(token, &format!("/api/v1/referrals/{referral}"))
        .await["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "place_offered")
        .count()
}

#[tokio::test]
async fn more_places_and_completions_are_offered_to_the_waiting_list_once_each() {
    let app = TestApp::spawn().await;
    let practice = medi_stad(&app).await;
    let offering = practice.offering.clone();
    let (first, token) = full_group(&app, &practice).await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(waitlisted(&app, &practice, &token).await);
    }
    // The group gets a second place: the longest waiting is offered it, the others wait.
    let o = app
        .get_json(&token, &format!("/api/v1/offerings/{offering}"))
        .await;
    let list = |field: &str| -> Vec<String> {
        o[field]
            .as_str()
            .expect("list")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let input = json!({
        "title": o["title"], "kind": o["kind"], "description": o["description"],
        "schedule": o["schedule"], "weekdays": list("weekdays"), "start_date": o["start_date"],
        "weeks": o["weeks"].to_string(), "capacity": "2", "funding": list("funding"),
        "indications": list("indications"), "price": "0",
        "therapist_id": o["therapist_id"], "location_id": o["location_id"],
    });
    let put = |input: Value| {
        app.api(
            &token,
            Method::PUT,
            &format!("/api/v1/offerings/{offering}"),
        )
        .json(&input)
        .send()
    };
    assert_eq!(
        put(input.clone()).await.expect("req").status(),
        StatusCode::NO_CONTENT
    );
    let offered = async |app: &TestApp| {
        let mut n = Vec::new();
        for id in &waiting {
            n.push(places_offered(app, &token, id).await);
        }
        n
    };
    assert_eq!(offered(&app).await, [1, 0, 0]);
    let mail = app
        .last_mail_to("jan@example.nl")
        .await
        .expect("client told");
    assert!(mail.subject.contains("plek vrij"), "{}", mail.subject);
    // Saving the offering again frees nothing, and nobody is offered a place twice.
    assert_eq!(
        put(input.clone()).await.expect("req").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(offered(&app).await, [1, 0, 0]);
    // Completing frees the first participant's place: the next in line is offered it.
    for action in ["start", "complete"] {
        let r = trajectory_status(&app, &token, &first, json!({"action": action})).await;
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    assert_eq!(offered(&app).await, [1, 1, 0]);
    // Two places, both offered and not yet taken: the third waits until one comes free.
    assert_eq!(
        put(input.clone()).await.expect("req").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(offered(&app).await, [1, 1, 0]);
    // The first in line takes the place and leaves again before starting: it goes to the third.
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/referrals/{}/decision", waiting[0]),
        )
        .json(&json!({"decision": "accept"}))
        .send()
        .await
        .expect("req");
    assert!(r.status().is_success(), "accept");
    assert_eq!(
        offered(&app).await,
        [1, 1, 0],
        "accepting takes the offered place"
    );
    let accepted = duurloop::app::trajectories::for_referral(&app.state, &waiting[0])
        .await
        .expect("lookup")
        .expect("trajectory");
    let r = trajectory_status(
        &app,
        &token,
        &accepted,
        json!({"action": "drop_out", "reason": "verhuisd"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(offered(&app).await, [1, 1, 1]);
}

/// The person offered a freed place hears that the therapist will be in touch: a therapist who
/// is not is reminded, and then the coordinator, as for a referral nobody answers.
#[tokio::test]
async fn an_offered_place_nobody_takes_up_reminds_the_therapist_then_the_coordinator() {
    use duurloop::app::referrals::send_response_reminders;
    let app = TestApp::spawn().await;
    let practice = medi_stad(&app).await;
    app.user(
        "coord@medi-stad.example",
        false,
        &[(&practice.org, Role::Coordinator)],
        true,
    )
    .await;
    let (first, token) = full_group(&app, &practice).await;
    let offered = waitlisted(&app, &practice, &token).await;
    let still_waiting = waitlisted(&app, &practice, &token).await;
    let reminders = async |to: &str| -> Vec<String> {
        sqlx::query_scalar(
            "SELECT subject FROM outbox WHERE kind = 'referral_reminder' AND to_addr = $1",
        )
        .bind(to)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("reminders")
    };
    // Weeks on the list remind nobody: nothing is asked of the therapist yet.
    app.clock.advance_ms(21 * 86_400_000);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 0);
    // The first participant drops out: the place is offered to the first in line.
    let r = trajectory_status(
        &app,
        &token,
        &first,
        json!({"action": "drop_out", "reason": "verhuisd"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(places_offered(&app, &token, &offered).await, 1);
    assert_eq!(places_offered(&app, &token, &still_waiting).await, 0);
    assert_eq!(
        send_response_reminders(&app.state).await.expect("run"),
        0,
        "within the response target"
    );
    app.clock.advance_ms(5 * 86_400_000);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 1);
    assert_eq!(
        reminders("poh@medi-stad.example").await,
        ["Herinnering: een vrijgekomen plek wacht op u"]
    );
    let mail = app
        .last_mail_to("poh@medi-stad.example")
        .await
        .expect("reminder");
    assert!(
        mail.body_text.contains("wachtlijst")
            && mail.body_text.contains(&format!("/referrals/{offered}")),
        "{}",
        mail.body_text
    );
    assert_eq!(
        send_response_reminders(&app.state).await.expect("run"),
        0,
        "once"
    );
    app.clock.advance_ms(5 * 86_400_000);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 1);
    assert_eq!(reminders("coord@medi-stad.example").await.len(), 1);
    // Taken in, nothing more is due.
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/referrals/{offered}/decision"),
        )
        .json(&json!({"decision": "accept"}))
        .send()
        .await
        .expect("req");
    assert!(r.status().is_success(), "accept");
    app.clock.advance_ms(30 * 86_400_000);
    assert_eq!(send_response_reminders(&app.state).await.expect("run"), 0);
}

#[tokio::test]
async fn a_participant_signs_in_by_magic_link_sees_the_week_and_logs_a_run() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    // The group started three weeks ago.
    sqlx::query("UPDATE offerings SET start_date = '2026-11-03'")
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    sqlx::query("UPDATE trajectories SET start_date = '2026-11-03'")
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    let browser = app.browser();
    let r = app
        .post_form(
            &browser,
            "/portal/login",
            &[("email", "niemand@example.nl")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the same answer for unknown addresses"
    );
    assert!(app.last_mail_to("niemand@example.nl").await.is_none());
    app.post_form(&browser, "/portal/login", &[("email", "Jan@Example.nl")])
        .await;
    let mail = app.last_mail_to("jan@example.nl").await.expect("link sent");
    let link = crate::helpers::link_in(&mail.body_text, &app.base);
    assert_eq!(
        app.get(&browser, "/portal").await.status(),
        StatusCode::SEE_OTHER,
        "not yet signed in"
    );
    assert_eq!(
        app.get(&browser, &link).await.status(),
        StatusCode::OK,
        "looking at the link does not use it up"
    );
    let r = app.post_form(&browser, &link, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.post_form(&app.browser(), &link, &[]).await.status(),
        StatusCode::NOT_FOUND,
        "a link works once"
    );
    let spent = app.get(&app.browser(), &link).await;
    assert_eq!(spent.status(), StatusCode::NOT_FOUND);
    assert!(
        spent
            .text()
            .await
            .expect("body")
            .contains("ouder dan tien minuten"),
        "a spent link says why and offers the form"
    );
    // A link works ten minutes (OWASP ASVS 2.7.2).
    app.post_form(
        &app.browser(),
        "/portal/login",
        &[("email", "jan@example.nl")],
    )
    .await;
    let late = crate::helpers::link_in(
        &app.last_mail_to("jan@example.nl")
            .await
            .expect("second link")
            .body_text,
        &app.base,
    );
    assert_ne!(late, link);
    app.clock.advance_ms(10 * 60_000 + 1);
    assert_eq!(
        app.post_form(&app.browser(), &late, &[]).await.status(),
        StatusCode::NOT_FOUND,
        "a link older than ten minutes is refused"
    );
    let html = app.html(&browser, "/portal").await;
    assert!(
        html.contains("Fijn dat u er bent, Jan Jansen") && html.contains("Deze week (week"),
        "{html}"
    );
    assert!(html.contains("<svg") && html.contains("132–150"));
    // Logging a run: bad input is explained, good input shows up for the therapist.
    let today = jiff::Timestamp::from_millisecond(app.state.now())
        .expect("now")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let r = app
        .post_form(
            &browser,
            "/portal/runs",
            &[("date", "2031-01-01"), ("minutes", "0"), ("exertion", "12")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("tot en met vandaag")
            && html.contains("aantal minuten")
            && html.contains("0 tot 10")
    );
    let r = app
        .post_form(
            &browser,
            "/portal/runs",
            &[
                ("date", &today),
                ("minutes", "24"),
                ("exertion", "3"),
                ("mood_before", "2"),
                ("mood_after", "4"),
                ("pain", "yes"),
                ("pain_where", "linkerknie"),
                ("note", "lekker gelopen"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let therapist_page = app
        .get(
            &app.session_for(&therapist).await,
            &format!("/trajectories/{trajectory}"),
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(
        therapist_page.contains("24 minuten in totaal") && therapist_page.contains("linkerknie")
    );
    assert!(
        app.audit_count("create", "run").await == 1
            && app.audit_count("login", "portal").await == 1
    );
    app.post_form(&browser, "/portal/logout", &[]).await;
    assert_eq!(
        app.get(&browser, "/portal").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.audit_count("logout", "portal").await, 1);
}

/// A small GPX track: 20 minutes, a point every 10 seconds, with heart rate, starting today.
fn gpx(today: &str) -> String {
    let mut points = String::new();
    for i in 0..=120 {
        let lat = 52.5076 + f64::from(i) * 0.00025;
        points.push_str(&format!(
            "<trkpt lat=\"{lat:.6}\" lon=\"5.4694\"><ele>{}</ele><time>{today}T07:{:02}:{:02}Z</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>",
            2 + i % 3,
            i / 6,
            (i % 6) * 10,
            135 + i % 5
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><gpx version=\"1.1\" creator=\"test\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\"><trk><trkseg>{points}</trkseg></trk></gpx>"
    )
}

#[tokio::test]
async fn a_participant_uploads_a_watch_file_and_hostile_files_are_refused() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    sqlx::query("UPDATE offerings SET start_date = '2026-11-03'")
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    sqlx::query("UPDATE trajectories SET start_date = '2026-11-03'")
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    let browser = app.browser();
    app.post_form(&browser, "/portal/login", &[("email", "jan@example.nl")])
        .await;
    let link = crate::helpers::link_in(
        &app.last_mail_to("jan@example.nl")
            .await
            .expect("mail")
            .body_text,
        &app.base,
    );
    app.post_form(&browser, &link, &[]).await;
    let upload = |name: &'static str, body: Vec<u8>, csrf: &'static str| {
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(body).file_name(name),
            )
            .text("exertion", "3");
        browser
            .post(app.url(&format!("/portal/runs/upload?csrf_token={csrf}")))
            .multipart(form)
            .send()
    };
    let today = jiff::Timestamp::from_millisecond(app.state.now())
        .expect("now")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let r = upload(
        "ochtend.gpx",
        gpx(&today).into_bytes(),
        "fout-fout-fout-fout-fout-fout-fout",
    )
    .await
    .expect("req");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the upload form carries the CSRF token too"
    );
    let r = upload(
        "ochtend.gpx",
        gpx(&today).into_bytes(),
        crate::helpers::CSRF,
    )
    .await
    .expect("req");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let hostile = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><gpx>&lol2;</gpx>";
    let r = upload(
        "boos.gpx",
        hostile.as_bytes().to_vec(),
        crate::helpers::CSRF,
    )
    .await
    .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("om veiligheidsredenen")
    );
    let r = upload(
        "kapot.gpx",
        gpx(&today).into_bytes()[..400].to_vec(),
        crate::helpers::CSRF,
    )
    .await
    .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = upload(
        "foto.jpg",
        vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3],
        crate::helpers::CSRF,
    )
    .await
    .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let rows: Vec<(String, i64, Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT source, duration_s, distance_m, avg_hr FROM runs")
            .fetch_all(&app.state.db.pool)
            .await
            .expect("runs");
    assert_eq!(rows.len(), 1, "only the good file was stored");
    assert_eq!(rows[0].0, "gpx");
    assert_eq!(rows[0].1, 1200);
    assert!(rows[0].2.expect("distance") > 3000);
    assert!((135..=139).contains(&rows[0].3.expect("heart rate")));
    let html = app.html(&browser, "/portal").await;
    assert!(
        html.contains("20 minuten in totaal") && html.contains(" min in de rustige zone"),
        "{html}"
    );
    let page = app
        .get(
            &app.session_for(&therapist).await,
            &format!("/trajectories/{trajectory}"),
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains("20 minuten in totaal"));
}

#[tokio::test]
async fn each_ended_week_advances_the_plan_or_repeats_it_on_pain_or_missed_runs() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    // The trajectory started 22 days ago: weeks 1, 2 and 3 have ended.
    let day = |offset: i64| {
        jiff::Timestamp::from_millisecond(app.state.now())
            .expect("now")
            .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").expect("tz"))
            .date()
            .checked_sub(jiff::Span::new().days(offset))
            .expect("date")
            .to_string()
    };
    sqlx::query("UPDATE trajectories SET start_date = $1")
        .bind(day(22))
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    let run = |date: String, pain: bool| duurloop::store::portal::RunRow {
        run_date: date,
        duration_s: 1200,
        pain: i64::from(pain),
        source: "manual".into(),
        exertion: Some(3),
        ..Default::default()
    };
    {
        let mut c = app.conn().await;
        let now = app.state.now();
        for offset in [21, 19, 17] {
            duurloop::store::portal::insert_run(&mut c, &trajectory, &run(day(offset), false), now)
                .await
                .expect("week 1");
        }
        for (offset, pain) in [(14, false), (12, true), (10, false)] {
            duurloop::store::portal::insert_run(&mut c, &trajectory, &run(day(offset), pain), now)
                .await
                .expect("week 2");
        }
        // Week 3: nothing.
    }
    let before: Value = {
        let token = app.api_token(&therapist).await;
        app.api(
            &token,
            Method::GET,
            &format!("/api/v1/trajectories/{trajectory}"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json")
    };
    let weeks_before = before["plan"]["weeks"].as_array().expect("weeks").len();
    assert_eq!(
        duurloop::app::trajectories::review_weeks(&app.state)
            .await
            .expect("review"),
        3
    );
    assert_eq!(
        duurloop::app::trajectories::review_weeks(&app.state)
            .await
            .expect("again"),
        0,
        "each week once"
    );
    let (by_system,): (i64,) = sqlx::query_as(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'update' \
         AND record_type = 'plan' AND actor_role = 'system' AND actor_user_id IS NULL AND record_id = $1",
    )
    .bind(&trajectory)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    assert_eq!(by_system, 3, "each reviewed week is in the audit log");
    let token = app.api_token(&therapist).await;
    let after: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/trajectories/{trajectory}"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(
        after["plan"]["weeks"].as_array().expect("weeks").len(),
        weeks_before + 2,
        "week 2 (pain) and week 3 (missed) repeated"
    );
    assert_eq!(after["trajectory"]["current_week"], 4);
    let referral = after["trajectory"]["referral_id"]
        .as_str()
        .expect("referral");
    let r: Value = app
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/referrals/{referral}"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let reasons: Vec<&str> = r["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "plan_repeated")
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert_eq!(reasons, vec!["pain", "missed_runs"]);
    // The therapist's group page shows who reported pain.
    let html = app
        .get(
            &app.session_for(&therapist).await,
            &format!("/offerings/{offering}/group"),
        )
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("pijn gemeld"), "{html}");
}

#[tokio::test]
async fn a_participant_uses_the_portal_over_the_api_and_subscribes_to_the_group_calendar() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    first_session(&app, &offering, &therapist).await;
    let trajectory = trajectory_for(&app, &offering, &referrer, &therapist).await;
    sqlx::query("UPDATE trajectories SET start_date = '2026-11-03'")
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    let client = reqwest::Client::new();
    let post = |path: &str| client.post(app.url(path));
    let r = post("/api/v1/portal/link")
        .json(&json!({"email": "Jan@Example.nl"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let magic = |body: &str| {
        crate::helpers::link_in(body, &app.base)
            .rsplit('/')
            .next()
            .expect("token")
            .to_string()
    };
    let token = magic(
        &app.last_mail_to("jan@example.nl")
            .await
            .expect("mail")
            .body_text,
    );
    let r = post("/api/v1/portal/session")
        .json(&json!({"token": token}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let session = r.json::<Value>().await.expect("json")["session"]
        .as_str()
        .expect("session")
        .to_string();
    let again = post("/api/v1/portal/session")
        .json(&json!({"token": token}))
        .send()
        .await
        .expect("req");
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "a link works once");
    let staff = app.api_token(&therapist).await;
    assert_eq!(
        app.api(&staff, Method::GET, "/api/v1/portal")
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::UNAUTHORIZED,
        "a staff token is not a portal session"
    );
    let me = |method: Method, path: &str| app.api(&session, method, path);
    let today = jiff::Timestamp::from_millisecond(app.state.now())
        .expect("now")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let bad = me(Method::POST, "/api/v1/portal/runs")
        .json(&json!({"date": "2031-01-01", "minutes": "0"}))
        .send()
        .await
        .expect("req");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad: Value = bad.json().await.expect("json");
    assert!(bad["error"]["fields"]["minutes"].is_string(), "{bad}");
    let r = me(Method::POST, "/api/v1/portal/runs")
        .json(&json!({"date": today, "minutes": "25", "exertion": "3", "pain": "yes", "pain_where": "kuit"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = me(
        Method::POST,
        "/api/v1/portal/runs/upload?name=ochtend.gpx&exertion=2",
    )
    .body(gpx(&today))
    .send()
    .await
    .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let hostile = me(Method::POST, "/api/v1/portal/runs/upload?name=x.gpx")
        .body("<?xml version=\"1.0\"?><!DOCTYPE gpx [<!ENTITY a \"aaaa\">]><gpx>&a;</gpx>")
        .send()
        .await
        .expect("req");
    assert_eq!(hostile.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = me(Method::GET, "/api/v1/portal")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(v["runs"].as_array().expect("runs").len(), 2, "{v}");
    assert_eq!(v["weeks"].as_array().expect("weeks").len(), 12);
    assert!(v["week"].as_u64().expect("week") >= 3);
    assert_eq!(v["hr_low"], json!(132));
    assert!(v["runs"].to_string().contains("kuit"));
    assert!(!v.to_string().contains("pace"), "never about speed");
    // The calendar link holds the group's sessions and nothing about the participant.
    let feed: Value = me(Method::POST, "/api/v1/portal/calendar-feed")
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    let url = feed["url"].as_str().expect("url").to_string();
    let ics = reqwest::get(&url)
        .await
        .expect("req")
        .text()
        .await
        .expect("body");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 12, "{ics}");
    assert!(!ics.contains("Jan") && !ics.contains("kuit"));
    // The same from the portal page: a new link replaces the old one.
    post("/api/v1/portal/link")
        .json(&json!({"email": "jan@example.nl"}))
        .send()
        .await
        .expect("req");
    let link = crate::helpers::link_in(
        &app.last_mail_to("jan@example.nl")
            .await
            .expect("mail")
            .body_text,
        &app.base,
    );
    let browser = app.browser();
    app.post_form(&browser, &link, &[]).await;
    let html = app
        .post_form(&browser, "/portal/calendar", &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("id=\"calendar-link\"") && html.contains("href=\"/portal\""));
    assert_eq!(
        reqwest::get(&url).await.expect("req").status(),
        StatusCode::NOT_FOUND,
        "the old link stops"
    );
    assert!(app.audit_count("create", "calendar_feed").await == 2);
    // Once the trajectory has ended, the participant's feed is gone.
    let page_link = html
        .split("id=\"calendar-link\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("link")
        .to_string();
    assert_eq!(
        reqwest::get(&page_link).await.expect("req").status(),
        StatusCode::OK
    );
    sqlx::query("UPDATE trajectories SET status = 'completed' WHERE id = $1")
        .bind(&trajectory)
        .execute(&app.state.db.pool)
        .await
        .expect("end");
    assert_eq!(
        reqwest::get(&page_link).await.expect("req").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        me(Method::DELETE, "/api/v1/portal/session")
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.audit_count("logout", "portal").await, 1);
    assert_eq!(
        me(Method::GET, "/api/v1/portal")
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// After completion the follow-up ends the referral (SPEC C3's last status): with the button on
/// the trajectory page (or the API), or by sending the follow-up feedback report, whose mail
/// is then the referrer's only one.
#[tokio::test]
async fn the_follow_up_closes_a_completed_referral_by_hand_or_by_its_report() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let token = app.api_token(&therapist).await;
    let status = |t: String, action: &'static str| {
        app.api(
            &token,
            Method::POST,
            &format!("/api/v1/trajectories/{t}/status"),
        )
        .json(&json!({ "action": action }))
        .send()
    };
    // By hand, on the page.
    let first = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let r = status(first.clone(), "follow_up").await.expect("req");
    assert_eq!(r.status(), StatusCode::CONFLICT, "not before completion");
    for action in ["start", "complete"] {
        let r = status(first.clone(), action).await.expect("req");
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    assert_eq!(referral_status(&app, &token, &first).await, "completed");
    let page = app.session_for(&therapist).await;
    let html = app.html(&page, &format!("/trajectories/{first}")).await;
    assert!(
        html.contains("value=\"follow_up\"") && !html.contains("id=\"follow-up-done\""),
        "{html}"
    );
    let r = app
        .post_form(
            &page,
            &format!("/trajectories/{first}/status"),
            &[("action", "follow_up")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.html(&page, &format!("/trajectories/{first}")).await;
    assert!(
        html.contains("id=\"follow-up-done\"") && !html.contains("value=\"follow_up\""),
        "{html}"
    );
    assert_eq!(
        referral_status(&app, &token, &first).await,
        "follow_up_done"
    );
    let r = status(first.clone(), "follow_up").await.expect("req");
    assert_eq!(r.status(), StatusCode::CONFLICT, "only once");
    // By sending the follow-up report.
    let second = trajectory_for(&app, &offering, &referrer, &therapist).await;
    for action in ["start", "complete"] {
        let r = status(second.clone(), action).await.expect("req");
        assert_eq!(r.status(), StatusCode::OK, "{action}");
    }
    let mails_to_referrer = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE to_addr = $1")
                .bind(&referrer.email)
                .fetch_one(&app.state.db.pool)
                .await
                .expect("count");
        n
    };
    let before = mails_to_referrer().await;
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/trajectories/{second}/feedback"),
        )
        .json(&json!({ "kind": "followup" }))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let report = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        referral_status(&app, &token, &second).await,
        "completed",
        "a draft changes nothing"
    );
    let r = app
        .api(
            &token,
            Method::POST,
            &format!("/api/v1/feedback/{report}/send"),
        )
        .json(&json!({
            "summary": "Jan loopt na drie maanden nog steeds twee keer per week.",
        }))
        .send()
        .await
        .expect("req");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        referral_status(&app, &token, &second).await,
        "follow_up_done"
    );
    assert_eq!(
        mails_to_referrer().await,
        before + 1,
        "one mail: the report's"
    );
}

/// The referral's status as the trajectory's API shows it.
async fn referral_status(app: &TestApp, token: &str, trajectory: &str) -> String {
    let v: Value = app
        .api(
            token,
            Method::GET,
            &format!("/api/v1/trajectories/{trajectory}"),
        )
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    v["referral_status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The participant's mails come in the language chosen for them: on the referral (form or
/// API), and afterwards by the participant's own language switch in the portal (page or API).
#[tokio::test]
async fn participants_get_their_mails_in_the_language_they_chose() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    // On the referral: a language it does not know is refused, English is kept.
    let token = app.api_token(&referrer).await;
    let referral = |lang: &'static str| {
        app.api(&token, Method::POST, "/api/v1/referrals")
            .json(&json!({
                "offering_id": offering,
                "client_name": "Sam Visser",
                "client_email": "sam@example.nl",
                "indications": ["stress"],
                "motivation": "high",
                "funding_route": "insurer",
                "consent": "yes",
                "client_lang": lang,
            }))
            .send()
    };
    let r = referral("xx").await.expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.expect("json");
    assert!(v["error"]["fields"]["client_lang"].is_string(), "{v}");
    let r = referral("en").await.expect("req");
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let v: Value = app
        .api(&token, Method::GET, &format!("/api/v1/referrals/{id}"))
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(v["referral"]["client_lang"], "en", "{v}");
    let form = app
        .html(
            &app.session_for(&referrer).await,
            &format!("/referrals/new?offering={offering}"),
        )
        .await;
    assert!(form.contains("name=\"client_lang\""), "{form}");
    // In the portal: Dutch by default, then English by the page's switch.
    trajectory_for(&app, &offering, &referrer, &therapist).await;
    let browser = app.browser();
    let mail = sign_in_mail(&app, &browser).await;
    assert_eq!(mail.subject, "Uw inloglink voor runningtherapie");
    let link = crate::helpers::link_in(&mail.body_text, &app.base);
    let r = app.post_form(&browser, &link, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = app.html(&browser, "/portal").await;
    assert!(
        home.contains("href=\"/portal/lang/en?back=%2Fportal\""),
        "{home}"
    );
    let r = app.get(&browser, "/portal/lang/en?back=/portal").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(crate::helpers::location(&r), "/portal");
    assert_eq!(app.audit_count("update", "language").await, 1);
    let mail = sign_in_mail(&app, &app.browser()).await;
    assert_eq!(mail.subject, "Your sign-in link for running therapy");
    // Through the API, back to Dutch.
    let session = app.portal_api_session("jan@example.nl").await;
    let set = |lang: &'static str| {
        app.api(&session, Method::PUT, "/api/v1/portal/language")
            .json(&json!({ "lang": lang }))
            .send()
    };
    let r = set("xx").await.expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = set("nl").await.expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["lang"], "nl");
    // Past the hour's limit of sign-in mails to one address (three have gone out).
    app.clock.advance_ms(61 * 60 * 1000);
    let mail = sign_in_mail(&app, &app.browser()).await;
    assert_eq!(mail.subject, "Uw inloglink voor runningtherapie");
    // Asking for a link on a page switched to English gets it in English, without changing
    // the stored language (anyone may ask for anyone's address); the API may ask too.
    let english = app.browser();
    app.get(&english, "/lang/en?back=/portal/login").await;
    let page_mail = sign_in_mail(&app, &english).await;
    assert_eq!(page_mail.subject, "Your sign-in link for running therapy");
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/portal/link"))
        .json(&json!({"email": "jan@example.nl", "lang": "fr"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/portal/link"))
        .json(&json!({"email": "jan@example.nl", "lang": "en"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mail = app.last_mail_to("jan@example.nl").await.expect("link sent");
    assert_eq!(mail.subject, "Your sign-in link for running therapy");
    assert_ne!(mail.body_text, page_mail.body_text, "a new link");
    let r = reqwest::Client::new()
        .put(app.url("/api/v1/portal/language"))
        .json(&json!({ "lang": "en" }))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Asks for a portal sign-in link for jan@example.nl and returns the mail.
async fn sign_in_mail(
    app: &TestApp,
    browser: &reqwest::Client,
) -> duurloop::store::outbox::MailRow {
    app.post_form(browser, "/portal/login", &[("email", "jan@example.nl")])
        .await;
    app.last_mail_to("jan@example.nl").await.expect("link sent")
}

/// Distances covered are shown per run and in total on the trajectory, and per participant
/// and for the whole group on the group page and in its API (a walking challenge counts them).
#[tokio::test]
async fn distances_are_summed_per_participant_and_per_group() {
    let app = TestApp::spawn().await;
    let Practice {
        therapist,
        referrer,
        offering,
        ..
    } = medi_stad(&app).await;
    let first = trajectory_for(&app, &offering, &referrer, &therapist).await;
    let second = trajectory_for(&app, &offering, &referrer, &therapist).await;
    for (t, date, metres, hr) in [
        (&first, "2026-11-20", Some(4_250), Some(128)),
        (&first, "2026-11-22", Some(5_000), None),
        (&second, "2026-11-21", Some(3_100), None),
        (&second, "2026-11-23", None, None),
    ] {
        let run = duurloop::store::portal::RunRow {
            run_date: date.into(),
            duration_s: 30 * 60,
            distance_m: metres,
            avg_hr: hr,
            in_zone_s: hr.map(|_| 25 * 60),
            source: "manual".into(),
            ..Default::default()
        };
        duurloop::store::portal::insert_run(&mut *app.conn().await, t, &run, app.state.now())
            .await
            .expect("run");
    }
    let page = app.session_for(&therapist).await;
    let html = app.html(&page, &format!("/trajectories/{first}")).await;
    assert!(html.contains("In totaal afgelegd: 9,3 km"), "{html}");
    assert!(
        html.contains("4,3 km")
            && html.contains("gem. hartslag 128")
            && html.contains("25 min in de rustige zone"),
        "{html}"
    );
    let html = app
        .html(&page, &format!("/offerings/{offering}/group"))
        .await;
    assert!(html.contains("Samen afgelegd: 12,4 km"), "{html}");
    assert!(html.contains("9,3 km") && html.contains("3,1 km"), "{html}");
    let v: Value = app
        .get_json(
            &app.api_token(&therapist).await,
            &format!("/api/v1/offerings/{offering}/group"),
        )
        .await;
    assert_eq!(v["distance_m"], 12_350, "{v}");
    let mut each: Vec<i64> = v["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .map(|p| p["distance_m"].as_i64().expect("distance"))
        .collect();
    each.sort();
    assert_eq!(each, [3_100, 9_250]);
}
