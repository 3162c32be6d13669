//! Browser test in headless Chromium (Debian's `chromium` and `chromium-driver`): each demo
//! role signs in, with its second factor where required, and sees its own Dutch start page,
//! on a phone-sized screen.
//!
//! Ignored by plain `cargo test` because it needs the browser; CI runs it with
//! `cargo test --test browser -- --ignored`. Screenshots land in `target/browser-screens/`.

#[allow(dead_code)]
#[path = "integration/helpers.rs"]
mod helpers;

use std::{process::Stdio, time::Duration};

use duurloop::cli::demo;
use fantoccini::{Client, ClientBuilder, Locator};
use helpers::TestApp;

/// Starts chromedriver on a free port and waits (bounded) until it accepts connections.
async fn chromedriver() -> (tokio::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver on PATH (apt-get install chromium chromium-driver)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=390,844", "--lang=nl-NL",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver")
}

async fn fill(c: &Client, css: &str, value: &str) {
    let field = c.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

async fn screenshot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screens");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

/// Insists the page fits the window: nothing scrolls sideways (the phone-sized window).
async fn assert_fits_a_phone(c: &Client, what: &str) {
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth",
            vec![],
        )
        .await
        .expect("measure");
    assert_eq!(fits, serde_json::Value::Bool(true), "{what}");
}

/// Clicks the element and waits (bounded) until the browser has left the current page and
/// finished loading the next one, so that nothing is read from the old page by mistake.
async fn click_and_wait(c: &Client, css: &str) {
    c.execute("window.__duurloopOldPage = true;", vec![])
        .await
        .expect("mark page");
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("find {css}"))
        .click()
        .await
        .unwrap_or_else(|_| panic!("click {css}"));
    for _ in 0..200 {
        let loaded = c
            .execute(
                "return !window.__duurloopOldPage && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if matches!(loaded, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new page after clicking {css}");
}

/// The visible text of the first element matching `css`.
async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("find {css}"))
        .text()
        .await
        .expect("text")
}

/// Signs a demo account in through the Dutch login page, with its TOTP code when it has one.
/// A code is accepted once per account: before signing the same account in again, advance
/// the app clock by 30 seconds.
async fn sign_in(c: &Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/login")).await.expect("login page");
    assert_eq!(
        c.find(Locator::Css("html"))
            .await
            .expect("html")
            .attr("lang")
            .await
            .expect("lang")
            .as_deref(),
        Some("nl")
    );
    fill(c, "#email", email).await;
    fill(c, "#password", demo::DEMO_PASSWORD).await;
    click_and_wait(c, "form.stack button[type=submit]").await;
    if let Some(code) = demo::demo_code(email, app.state.now()) {
        c.wait()
            .for_element(Locator::Css("#code"))
            .await
            .expect("code step");
        assert!(
            c.current_url()
                .await
                .expect("url")
                .path()
                .starts_with("/login/totp")
        );
        fill(c, "#code", &code).await;
        click_and_wait(c, "form.stack button[type=submit]").await;
    }
    assert!(
        !c.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/login"),
        "{email} is signed in"
    );
}

async fn sign_out(c: &Client) {
    click_and_wait(c, "form[action='/logout'] button").await;
    c.wait()
        .for_element(Locator::Css("#email"))
        .await
        .expect("back at login");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn each_demo_role_signs_in_with_its_second_factor_and_sees_its_dutch_start_page() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;

    // (e-mail, the section of the start page that belongs to the role, a Dutch word on it)
    let roles = [
        (
            "beheer@duurloop.example",
            "start-admin",
            "Beheer van Duurloop",
        ),
        (
            "praktijkmanager@medi-stad.example",
            "start-coordinator",
            "Coördinator",
        ),
        (
            "poh@medi-stad.example",
            "start-therapist",
            "Runningtherapeut",
        ),
        ("huisarts@medi-stad.example", "start-referrer", "Verwijzer"),
        ("welzijn@noordwijk.example", "start-funder", "Financier"),
    ];
    for (email, section, heading) in roles {
        sign_in(&c, &app, email).await;
        let sec = c
            .wait()
            .for_element(Locator::Id(section))
            .await
            .unwrap_or_else(|_| panic!("{email} sees {section}"));
        let text = sec.text().await.expect("text");
        assert!(text.contains(heading), "{email}: {text}");
        let h1 = c
            .find(Locator::Css("h1"))
            .await
            .expect("h1")
            .text()
            .await
            .expect("text");
        assert_eq!(h1, "Startpagina");
        screenshot(&c, section).await;
        if section == "start-admin" {
            // The administrator checks the audit log's hash chain from the audit log page.
            c.goto(&app.url("/audit")).await.expect("audit log");
            click_and_wait(&c, "a[href='/audit/integrity']").await;
            let intact = c
                .find(Locator::Css("#chain-intact"))
                .await
                .expect("the check's answer")
                .text()
                .await
                .expect("text");
            assert!(intact.starts_with("In orde"), "{intact}");
            screenshot(&c, "audit-integrity").await;
        }
        // Keyboard users get a skip link first.
        let skip = c.find(Locator::Css("a.skip")).await.expect("skip link");
        assert_eq!(
            skip.attr("href").await.expect("href").as_deref(),
            Some("#main")
        );
        sign_out(&c).await;
    }
    c.close().await.expect("close");
}

/// The front door as people use it: a GP finds a group near the client and refers; the
/// running therapist receives the referral, invites, plans and records the intake, is stopped
/// by a "yes" on the health screen until the medical clearance is recorded, and accepts; the
/// GP then sees the outcome and every step on the timeline.
#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn a_referral_walks_from_search_to_acceptance_through_the_dutch_front_door() {
    const TITLE: &str = "Runningtherapie Medi-Stad: dinsdag- en zaterdaggroep";
    const REFERRER: &str = "huisarts@medi-stad.example";
    const THERAPIST: &str = "poh@medi-stad.example";
    const CLIENT: &str = "Sanne Verbeek";
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;
    let status = || text(&c, "#referral-status");

    // The GP searches near the client's postcode and refers to the Medi-Stad group.
    sign_in(&c, &app, REFERRER).await;
    c.goto(&app.url("/zoeken")).await.expect("search page");
    fill(&c, "#postcode", "8232").await;
    click_and_wait(&c, "form[action='/zoeken'] button[type=submit]").await;
    let mut found = None;
    for hit in c
        .find_all(Locator::Css("li.result"))
        .await
        .expect("results")
    {
        if hit.text().await.expect("text").contains(TITLE) {
            found = Some(hit);
        }
    }
    let hit = found.expect("the Medi-Stad group is among the results");
    let hit_id = hit.attr("id").await.expect("id").expect("result id");
    c.execute(
        &format!("document.getElementById('{hit_id}').scrollIntoView()"),
        vec![],
    )
    .await
    .expect("scroll to result");
    screenshot(&c, "front-door-search").await;
    click_and_wait(&c, &format!("#{hit_id} a[href^='/referrals/new']")).await;
    assert!(text(&c, "p.lead").await.contains(TITLE));

    fill(&c, "#client_name", CLIENT).await;
    fill(&c, "#client_email", "sanne.verbeek@example.nl").await;
    c.find(Locator::Css("input[name=indications][value=stress]"))
        .await
        .expect("stress")
        .click()
        .await
        .expect("tick stress");
    c.find(Locator::Css("#motivation"))
        .await
        .expect("motivation")
        .select_by_value("high")
        .await
        .expect("motivation high");
    c.find(Locator::Css("#funding_route"))
        .await
        .expect("funding route")
        .select_by_value("gp_module")
        .await
        .expect("funding gp_module");
    c.find(Locator::Css("input[name=consent]"))
        .await
        .expect("consent")
        .click()
        .await
        .expect("tick consent");
    screenshot(&c, "front-door-referral-form").await;
    click_and_wait(&c, "form[action^='/referrals'] button[type=submit]").await;
    let referral_url = c.current_url().await.expect("url");
    let path = referral_url.path().to_string();
    assert!(
        path.starts_with("/referrals/") && !path.ends_with("/new") && path.len() > 12,
        "lands on the referral: {path}"
    );
    assert_eq!(status().await, "verstuurd");
    screenshot(&c, "front-door-referral").await;
    sign_out(&c).await;

    // The therapist receives it and takes it through invitation and intake.
    sign_in(&c, &app, THERAPIST).await;
    c.goto(&app.url("/referrals")).await.expect("referrals");
    assert!(text(&c, "main").await.contains(CLIENT));
    click_and_wait(&c, &format!("a[href='{path}']")).await;
    assert_eq!(status().await, "ontvangen");
    let open_details = "document.querySelectorAll('details').forEach(d => d.open = true)";
    c.execute(open_details, vec![]).await.expect("open details");
    fill(&c, "#intake_at", "dinsdag 1 december, 10:00 in de praktijk").await;
    click_and_wait(&c, "form[action$='/invite'] button[type=submit]").await;
    assert_eq!(status().await, "uitgenodigd");

    c.execute(open_details, vec![]).await.expect("open details");
    fill(&c, "#planned_for", "dinsdag 1 december, 10:00").await;
    click_and_wait(&c, "form[action$='/plan-intake'] button[type=submit]").await;
    assert_eq!(status().await, "intake gepland");

    c.execute(open_details, vec![]).await.expect("open details");
    c.find(Locator::Css("input[name=screen_chest_pain][value=yes]"))
        .await
        .expect("chest pain yes")
        .click()
        .await
        .expect("answer yes");
    let noes = c
        .find_all(Locator::Css(
            "input[name^=screen_][value=no]:not([name=screen_chest_pain])",
        ))
        .await
        .expect("no answers");
    assert_eq!(noes.len(), 6, "seven screen questions, one answered yes");
    for no in noes {
        no.click().await.expect("answer no");
    }
    fill(&c, "#resting_hr", "62").await;
    fill(&c, "#age", "44").await;
    click_and_wait(&c, "form[action$='/intake'] button[type=submit]").await;
    assert!(
        c.find(Locator::Css("#screen-blocked"))
            .await
            .expect("screen blocked notice")
            .is_displayed()
            .await
            .expect("displayed")
    );
    assert_eq!(status().await, "intake gepland");
    screenshot(&c, "front-door-screen-blocked").await;

    // Accepting is refused until the medical clearance is on record.
    c.execute(open_details, vec![]).await.expect("open details");
    c.find(Locator::Css("#decision"))
        .await
        .expect("decision")
        .select_by_value("accept")
        .await
        .expect("accept");
    click_and_wait(&c, "form[action$='/decision'] button[type=submit]").await;
    let errors = text(&c, "#form-errors").await;
    assert!(errors.contains("medisch akkoord"), "{errors}");
    assert_eq!(status().await, "intake gepland");
    screenshot(&c, "front-door-clearance-required").await;

    c.execute(open_details, vec![]).await.expect("open details");
    fill(&c, "#by", "huisarts P. Jansen").await;
    c.execute("document.getElementById('date').value='2026-11-20'", vec![])
        .await
        .expect("set clearance date");
    click_and_wait(&c, "form[action$='/clearance'] button[type=submit]").await;
    assert!(
        c.find(Locator::Css("#form-errors")).await.is_err(),
        "clearance recorded without errors"
    );
    assert_eq!(status().await, "intake gepland");
    c.execute(open_details, vec![]).await.expect("open details");
    c.find(Locator::Css("#decision"))
        .await
        .expect("decision")
        .select_by_value("accept")
        .await
        .expect("accept");
    click_and_wait(&c, "form[action$='/decision'] button[type=submit]").await;
    assert_eq!(status().await, "aangenomen");
    sign_out(&c).await;

    // The GP sees the outcome and every step.
    app.clock.advance_ms(30_000);
    sign_in(&c, &app, REFERRER).await;
    c.goto(referral_url.as_str()).await.expect("referral");
    assert_eq!(status().await, "aangenomen");
    let timeline = text(&c, "#timeline").await;
    for step in [
        "verwijzing ontvangen",
        "uitgenodigd",
        "intake gepland",
        "medisch akkoord vastgelegd",
        "aangenomen",
    ] {
        assert!(timeline.contains(step), "timeline has {step}: {timeline}");
    }
    // The referral page fits a phone: nothing scrolls sideways.
    assert_fits_a_phone(&c, "the referral page fits a phone").await;
    c.execute(
        "document.getElementById('timeline').scrollIntoView()",
        vec![],
    )
    .await
    .expect("scroll to timeline");
    screenshot(&c, "front-door-accepted").await;
    c.close().await.expect("close");
}

/// A 25-minute GPX track, a point every 10 seconds with heart rate, ending now.
fn watch_file(now_s: i64) -> String {
    let start = now_s - 25 * 60;
    let mut pts = String::new();
    for i in 0..=150i64 {
        let t = jiff::Timestamp::from_second(start + i * 10).expect("time");
        pts.push_str(&format!(
            "<trkpt lat=\"{:.6}\" lon=\"5.4694\"><ele>3</ele><time>{}</time><extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>",
            52.5076 + i as f64 * 0.00023,
            t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            136 + i % 4
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"Forerunner\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v1\"><trk><trkseg>{pts}</trkseg></trk></gpx>"
    )
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn a_participant_uploads_a_watch_file_on_a_phone_and_sees_the_run() {
    use duurloop::app::{Actor, AuthVia, auth, portal, referrals};
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    // A participant accepted into the Medi-Stad group, through the real actions.
    let identity = |email: &'static str| {
        let state = app.state.clone();
        async move {
            let mut c = state.db.conn().await.expect("conn");
            let u = duurloop::store::users::by_email(&mut c, email)
                .await
                .expect("user")
                .expect("exists");
            let identity = auth::identity(&state, &u.id, AuthVia::ApiToken)
                .await
                .expect("identity")
                .expect("exists");
            Actor {
                identity,
                ctx: Default::default(),
            }
        }
    };
    let gp = identity("huisarts@medi-stad.example").await;
    let poh = identity("poh@medi-stad.example").await;
    let offering = duurloop::app::directory::search(
        &app.state,
        &duurloop::app::directory::SearchQuery {
            postcode: "8232".into(),
            ..Default::default()
        },
    )
    .await
    .expect("search")[0]
        .offering
        .id
        .clone();
    let input = referrals::ReferralInput {
        offering_id: offering,
        client_name: "Sanne Verbeek".into(),
        client_email: "sanne@example.nl".into(),
        indications: vec!["stress".into()],
        motivation: "high".into(),
        funding_route: "gp_module".into(),
        consent: "yes".into(),
        ..Default::default()
    };
    let id = referrals::refer(&app.state, &gp, &input)
        .await
        .expect("refer")
        .id;
    referrals::plan_intake(&app.state, &poh, &id, "maandag")
        .await
        .expect("plan");
    let screen = referrals::screen_questions()
        .into_iter()
        .map(|q| (q.to_string(), "no".to_string()))
        .collect();
    referrals::record_intake(
        &app.state,
        &poh,
        &id,
        &referrals::IntakeInput {
            screen,
            resting_hr: "62".into(),
            age: "44".into(),
            ..Default::default()
        },
    )
    .await
    .expect("intake");
    referrals::decide(
        &app.state,
        &poh,
        &id,
        &referrals::DecisionInput {
            decision: "accept".into(),
            ..Default::default()
        },
    )
    .await
    .expect("accept");
    // The group has started: the trajectory began a week ago.
    let week_ago = jiff::Timestamp::from_millisecond(app.state.now() - 7 * 86_400_000)
        .expect("t")
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    sqlx::query("UPDATE trajectories SET start_date = $1")
        .bind(&week_ago)
        .execute(&app.state.db.pool)
        .await
        .expect("start");
    portal::request_link(&app.state, "sanne@example.nl", None, &Default::default())
        .await
        .expect("link");
    let mut c = app.conn().await;
    let mail = duurloop::store::outbox::recent(&mut c, 10)
        .await
        .expect("outbox")
        .into_iter()
        .find(|m| m.to_addr == "sanne@example.nl")
        .expect("mail");
    drop(c);
    let link = mail
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/portal/magic/"))
        .expect("link")
        .to_string();
    let file = app.dir.path().join("ochtendloop.gpx");
    std::fs::write(&file, watch_file(app.state.now() / 1000)).expect("write file");

    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;
    c.goto(&link).await.expect("magic link");
    click_and_wait(&c, "form[action^='/portal/magic/'] button[type=submit]").await;
    assert!(text(&c, "h1").await.contains("Mijn runningtherapie"));
    assert!(text(&c, "#this-week").await.contains("Deze week"));
    c.find(Locator::Css("#file"))
        .await
        .expect("file input")
        .send_keys(file.to_str().expect("path"))
        .await
        .expect("choose file");
    fill(&c, "#u-exertion", "3").await;
    screenshot(&c, "portal-upload").await;
    click_and_wait(
        &c,
        "form[action^='/portal/runs/upload'] button[type=submit]",
    )
    .await;
    let runs = text(&c, "#runs").await;
    assert!(runs.contains("25 minuten in totaal"), "{runs}");
    assert!(runs.contains("slagen per minuut"), "{runs}");
    assert!(runs.contains(" min in de rustige zone"), "{runs}");
    assert_fits_a_phone(&c, "the portal fits a phone").await;
    c.execute("document.getElementById('runs').scrollIntoView()", vec![])
        .await
        .expect("scroll");
    screenshot(&c, "portal-run").await;
    // Under *Mijn gegevens*: research use, and an objection made with one button.
    click_and_wait(&c, "a[href='/portal/onderzoek']").await;
    assert!(text(&c, "h1").await.contains("onderzoek"));
    click_and_wait(&c, "form[action='/portal/onderzoek'] button[type=submit]").await;
    let state = text(&c, "#research-objection-state").await;
    assert!(state.contains("bezwaar gemaakt"), "{state}");
    assert_fits_a_phone(&c, "the page fits a phone").await;
    screenshot(&c, "portal-research-objection").await;
    c.close().await.expect("close");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn a_participant_fills_in_phq9_on_a_phone_and_the_therapist_sees_the_score_and_alert() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    // Esra's week-5 questionnaire is due: the scheduler mails her the link.
    duurloop::app::measure::run_schedule(&app.state)
        .await
        .expect("schedule");
    let mut c = app.conn().await;
    let mail = duurloop::store::outbox::recent(&mut c, 50)
        .await
        .expect("outbox")
        .into_iter()
        .find(|m| m.to_addr == "deelnemer5@example.nl")
        .expect("questionnaire mail");
    let (trajectory,): (String,) = sqlx::query_as(
        "SELECT t.id FROM trajectories t JOIN referrals r ON r.id = t.referral_id WHERE r.client_name = 'Esra Yilmaz'",
    )
    .fetch_one(&mut *c)
    .await
    .expect("trajectory");
    drop(c);
    let link = mail
        .body_text
        .split_whitespace()
        .find(|w| w.contains("/vragenlijst/"))
        .expect("link")
        .to_string();

    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let b = browser(port, profile.path()).await;
    b.goto(&link).await.expect("questionnaire");
    assert!(text(&b, "h1").await.contains("Vragenlijst"));
    // PHQ-9 with item 9 above 0, then GAD-7 and WHO-5: one tap per question.
    let phq9 = [1, 1, 2, 1, 1, 1, 1, 0, 1];
    for (i, v) in phq9.iter().enumerate() {
        b.find(Locator::Css(&format!(
            "input[name='phq9.phq9_{}'][value='{v}']",
            i + 1
        )))
        .await
        .expect("option")
        .click()
        .await
        .expect("tap");
    }
    screenshot(&b, "questionnaire-phq9").await;
    for (code, n, v) in [("gad7", 7, 1), ("who5", 5, 3)] {
        for i in 1..=n {
            b.find(Locator::Css(&format!(
                "input[name='{code}.{code}_{i}'][value='{v}']"
            )))
            .await
            .expect("option")
            .click()
            .await
            .expect("tap");
        }
    }
    assert_fits_a_phone(&b, "the questionnaire fits a phone").await;
    click_and_wait(&b, "button[value='submit']").await;
    let help = text(&b, "#help-now").await;
    assert!(
        help.contains("0800-0113") && help.contains("huisarts"),
        "{help}"
    );
    screenshot(&b, "questionnaire-help").await;
    b.close().await.expect("close");

    // The therapist sees the alert on the start page and the score on the trajectory.
    let profile = tempfile::tempdir().expect("profile dir");
    let t = browser(port, profile.path()).await;
    sign_in(&t, &app, "poh@medi-stad.example").await;
    let alerts = text(&t, "#alerts").await;
    assert!(alerts.contains("Esra Yilmaz"), "{alerts}");
    t.goto(&app.url(&format!("/trajectories/{trajectory}")))
        .await
        .expect("trajectory");
    let m = text(&t, "#measurements").await;
    assert!(
        m.contains("9") && m.contains("Licht"),
        "PHQ-9 total 9, mild: {m}"
    );
    assert!(m.contains("Veiligheidssignaal"), "{m}");
    screenshot(&t, "therapist-measurements").await;
    t.close().await.expect("close");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn the_practice_manager_sends_the_draft_invoice_on_a_phone_and_the_insurer_sees_its_own() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, &app.state.secret_key, app.state.now())
        .await
        .expect("demo");
    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let b = browser(port, profile.path()).await;
    sign_in(&b, &app, "praktijkmanager@medi-stad.example").await;
    click_and_wait(&b, "nav a[href='/invoices']").await;
    let list = text(&b, "#invoices").await;
    assert!(
        list.contains("Samen Gezond") && list.contains("concept"),
        "{list}"
    );
    // The subsidy's draft: its lines are module fees; sending numbers it.
    let draft = b
        .find(Locator::XPath(
            "//table[@id='invoices']//tr[contains(., 'concept')]//a",
        ))
        .await
        .expect("draft link")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    b.goto(&app.url(&draft)).await.expect("draft");
    let lines = text(&b, "#lines").await;
    assert!(
        lines.contains("Moduletarief") && lines.contains("DL-"),
        "{lines}"
    );
    assert_fits_a_phone(&b, "the invoice fits a phone").await;
    click_and_wait(&b, "form[action$='/send'] button").await;
    assert!(text(&b, "#status").await.contains("verstuurd"));
    let year = &duurloop::clock::local_date(app.state.now())[..4];
    assert!(text(&b, "h1").await.contains(&format!("{year}-0003")));
    screenshot(&b, "invoice-sent").await;
    // The trajectory pages show each participant's funding.
    b.goto(&app.url("/funding/budgets")).await.expect("budgets");
    assert!(text(&b, "main").await.contains("Subsidie runningtherapie"));
    b.close().await.expect("close");

    let profile = tempfile::tempdir().expect("profile dir");
    let f = browser(port, profile.path()).await;
    sign_in(&f, &app, "zorginkoop@zuiderzee.example").await;
    click_and_wait(&f, "nav a[href='/invoices']").await;
    let seen = text(&f, "#invoices").await;
    assert!(
        seen.contains("Zorgverzekeraar Zuiderzee") && !seen.contains("Samen Gezond"),
        "{seen}"
    );
    screenshot(&f, "funder-invoices").await;
    f.close().await.expect("close");
}

/// ASVS 2.1.12 and 2.1.8 on a phone: the reset form's "Wachtwoord tonen" button shows and
/// hides what was typed (aria-pressed follows), and the strength meter judges the new
/// password while it is typed, through htmx under the strict Content-Security-Policy.
#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn the_new_password_can_be_shown_and_its_strength_is_judged_while_typing() {
    let app = TestApp::spawn().await;
    let u = app
        .user("wachtwoord@praktijk.example", false, &[], false)
        .await;
    app.post_form(&app.browser(), "/password/forgot", &[("email", &u.email)])
        .await;
    let mail = app.last_mail_to(&u.email).await.expect("reset mail");
    let link = helpers::link_in(&mail.body_text, &app.base);
    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;
    c.goto(&app.url(&link)).await.expect("reset page");

    let field = c.find(Locator::Css("#password")).await.expect("field");
    let button = c
        .wait()
        .for_element(Locator::Css("button[data-show-password='password']"))
        .await
        .expect("show button");
    assert!(
        button.is_displayed().await.expect("shown"),
        "the script shows the button"
    );
    assert_eq!(button.text().await.expect("label"), "Wachtwoord tonen");
    fill(&c, "#password", "password1234").await;
    let weak = c
        .wait()
        .for_element(Locator::Css("#password-strength [data-strength='weak']"))
        .await
        .expect("judged weak while typing");
    assert!(weak.text().await.expect("text").contains("Zwak"));
    screenshot(&c, "password-weak").await;

    let attr = |name: &'static str| {
        let field = field.clone();
        let button = button.clone();
        async move {
            (
                field.attr("type").await.expect("type"),
                button.attr(name).await.expect("attr"),
            )
        }
    };
    assert_eq!(
        attr("aria-pressed").await,
        (Some("password".into()), Some("false".into()))
    );
    button.clone().click().await.expect("show");
    assert_eq!(
        attr("aria-pressed").await,
        (Some("text".into()), Some("true".into()))
    );
    assert_eq!(
        field.prop("value").await.expect("value").as_deref(),
        Some("password1234")
    );
    screenshot(&c, "password-shown").await;
    button.clone().click().await.expect("hide");
    assert_eq!(
        attr("aria-pressed").await,
        (Some("password".into()), Some("false".into()))
    );

    fill(
        &c,
        "#password",
        "mijn fiets staat achter de bakkerij in Zwolle",
    )
    .await;
    c.wait()
        .for_element(Locator::Css("#password-strength [data-strength='strong']"))
        .await
        .expect("judged strong while typing");
    c.close().await.expect("close");
}
