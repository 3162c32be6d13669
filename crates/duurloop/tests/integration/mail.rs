//! The outbox worker: `.eml` files without SMTP, real SMTP when configured, retries.

use std::sync::{Arc, Mutex};

use duurloop::config::Secret;
use duurloop_domain::OrgKind;
use reqwest::StatusCode;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::helpers::TestApp;

async fn invite_someone(app: &TestApp, email: &str) {
    let org = app.org("Medi-Stad", OrgKind::GpPractice).await;
    let admin = app.user("beheer@duurloop.example", true, &[], true).await;
    let client = app.session_for(&admin).await;
    let r = app
        .post_form(
            &client,
            &format!("/organisations/{org}/invitations"),
            &[("email", email), ("role", "referrer")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_smtp_mail_lands_as_eml_files_and_shows_in_the_admin_outbox() {
    let app = TestApp::spawn().await;
    invite_someone(&app, "nieuw@medi-stad.example").await;
    app.deliver_mail().await;
    let dir = app.dir.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("outbox dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).expect("eml");
    assert!(eml.contains("To: nieuw@medi-stad.example"));
    assert!(eml.contains("Uitnodiging voor Medi-Stad"));
    let mail = app
        .last_mail_to("nieuw@medi-stad.example")
        .await
        .expect("row");
    assert!(mail.sent_at.is_some());
    let admin = app.user("tweede@duurloop.example", true, &[], true).await;
    let client = app.session_for(&admin).await;
    let html = app.html(&client, "/admin/outbox").await;
    assert!(html.contains("nieuw@medi-stad.example") && html.contains("verzonden"));
    let html = app
        .html(&client, &format!("/admin/outbox/{}", mail.id))
        .await;
    // The administrator sees that an invitation went out, not its token.
    assert!(html.contains("/invite/…"), "{html}");
    let token = mail
        .body_text
        .split("/invite/")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("link in the stored mail");
    assert!(!html.contains(token));
    // Addresses and bodies are personal data: both views are in the audit log.
    assert_eq!(app.audit_count("search", "mail").await, 1);
    assert_eq!(app.audit_count("read", "mail").await, 1);
}

/// A minimal SMTP server on loopback that records what it receives. With `refuse` set it
/// answers the first MAIL FROM with a temporary failure.
async fn smtp_server(refuse_first: bool) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        let mut refuse = refuse_first;
        while let Ok((stream, _)) = listener.accept().await {
            let (r, mut w) = stream.into_split();
            let mut lines = BufReader::new(r).lines();
            let _ = w.write_all(b"220 test ESMTP\r\n").await;
            let mut data = String::new();
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        in_data = false;
                        if let Ok(mut s) = store.lock() {
                            s.push(std::mem::take(&mut data));
                        }
                        let _ = w.write_all(b"250 OK queued\r\n").await;
                    } else {
                        data.push_str(&line);
                        data.push('\n');
                    }
                    continue;
                }
                let upper = line.to_uppercase();
                let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                    b"250 test\r\n"
                } else if upper.starts_with("MAIL FROM") && refuse {
                    refuse = false;
                    b"451 try again later\r\n"
                } else if upper.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if upper.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n").await;
                    break;
                } else {
                    b"250 OK\r\n"
                };
                let _ = w.write_all(reply).await;
            }
        }
    });
    (port, received)
}

#[tokio::test]
async fn with_smtp_configured_mail_is_delivered_over_smtp() {
    let (port, received) = smtp_server(false).await;
    let app =
        TestApp::spawn_with(|c| c.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"))).await;
    invite_someone(&app, "nieuw@medi-stad.example").await;
    app.deliver_mail().await;
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("nieuw@medi-stad.example"));
    assert!(
        app.last_mail_to("nieuw@medi-stad.example")
            .await
            .expect("row")
            .sent_at
            .is_some()
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_later() {
    let (port, received) = smtp_server(true).await;
    let app = TestApp::spawn_with(|c| {
        c.smtp_url = Secret::new(format!("smtp://127.0.0.1:{port}"));
        c.worker_interval_seconds = 3600;
    })
    .await;
    invite_someone(&app, "nieuw@medi-stad.example").await;
    app.deliver_mail().await;
    let row = app
        .last_mail_to("nieuw@medi-stad.example")
        .await
        .expect("row");
    assert!(row.sent_at.is_none());
    assert!(row.last_error.is_some());
    assert_eq!(app.deliver_mail().await, 0, "not due yet");
    app.clock.advance_ms(10 * 60_000);
    assert_eq!(app.deliver_mail().await, 1);
    assert_eq!(received.lock().expect("lock").len(), 1);
    let row = app
        .last_mail_to("nieuw@medi-stad.example")
        .await
        .expect("row");
    assert_eq!(row.attempts, 2);
}

#[tokio::test]
async fn the_background_worker_sends_queued_mail_without_being_asked() {
    let app = TestApp::spawn_with_worker().await;
    invite_someone(&app, "nieuw@medi-stad.example").await;
    // The worker is woken when mail is queued; wait for it, bounded (no fixed sleep).
    let mut sent = false;
    for _ in 0..100 {
        if app
            .last_mail_to("nieuw@medi-stad.example")
            .await
            .and_then(|m| m.sent_at)
            .is_some()
        {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sent, "the worker delivered the invitation");
    assert_eq!(
        std::fs::read_dir(app.dir.path().join("outbox"))
            .expect("dir")
            .count(),
        1
    );
}
