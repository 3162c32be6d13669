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

#[tokio::test]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn each_demo_role_signs_in_with_its_second_factor_and_sees_its_dutch_start_page() {
    let app = TestApp::spawn().await;
    demo::seed(&app.state.db, app.state.now())
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
        fill(&c, "#email", email).await;
        fill(&c, "#password", demo::DEMO_PASSWORD).await;
        c.find(Locator::Css("form.stack button[type=submit]"))
            .await
            .expect("button")
            .click()
            .await
            .expect("submit");
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
            fill(&c, "#code", &code).await;
            c.find(Locator::Css("form.stack button[type=submit]"))
                .await
                .expect("button")
                .click()
                .await
                .expect("submit code");
        }
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
        // Keyboard users get a skip link first.
        let skip = c.find(Locator::Css("a.skip")).await.expect("skip link");
        assert_eq!(
            skip.attr("href").await.expect("href").as_deref(),
            Some("#main")
        );
        c.find(Locator::Css("form[action='/logout'] button"))
            .await
            .expect("logout")
            .click()
            .await
            .expect("logout");
        c.wait()
            .for_element(Locator::Css("#email"))
            .await
            .expect("back at login");
    }
    c.close().await.expect("close");
}
