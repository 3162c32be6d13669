//! E-mail: what each message says (translated, text and HTML), queueing in the outbox in the
//! caller's transaction, and the worker that delivers the outbox over SMTP or into `.eml` files
//! (and, each round, queues due response-target reminders).

use std::time::Duration;

use askama::Template;
use duurloop_domain::Role;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::MultiPart,
};

use crate::{
    i18n::Lang,
    state::AppState,
    store::{self, Conn},
};

/// The messages Duurloop sends.
pub enum Mail<'a> {
    Invitation {
        link: &'a str,
        org_name: &'a str,
        role: Role,
        inviter: &'a str,
    },
    PasswordReset {
        link: &'a str,
    },
    /// To the therapist (or the region's coordinators): a new referral is waiting.
    NewReferral {
        link: &'a str,
        days: i64,
    },
    /// To the referrer: the referral's status changed. No client details in the mail.
    ReferralStatus {
        link: &'a str,
        status: &'a str,
    },
    /// To the client: an invitation for an intake, with a link to confirm.
    ClientInvitation {
        link: &'a str,
        therapist: &'a str,
    },
    /// A referral still waits for a first response.
    ReferralReminder {
        link: &'a str,
        coordinator: bool,
        /// The referral waits on the list with a place offered, not for a first response.
        place_offered: bool,
    },
    /// To a participant: a group session is cancelled.
    SessionCancelled {
        title: &'a str,
        when: &'a str,
        reason: &'a str,
    },
    /// To the next person on a waiting list: a place is free.
    PlaceOffered {
        title: &'a str,
    },
    /// To the therapist: a place freed up for the referral that waited longest.
    PlaceFreed {
        link: &'a str,
    },
    /// To a participant: the sign-in link for the portal.
    PortalLink {
        link: &'a str,
    },
    /// To a participant: a questionnaire is due (or, as a reminder, still open).
    Questionnaire {
        link: &'a str,
        reminder: bool,
    },
    /// To the therapist: a questionnaire stays unanswered. No client details.
    QuestionnaireUnanswered {
        link: &'a str,
    },
    /// To the therapist, at once: an answer met a safety rule. No client details.
    SafetyAlert {
        link: &'a str,
    },
    /// To the referrer: a feedback report is ready to read. No client details.
    FeedbackReport {
        link: &'a str,
    },
    /// A new message in a conversation between therapist and participant: that there is one
    /// and where to read it, never its text (health data does not go by mail).
    NewMessage {
        link: &'a str,
        to_participant: bool,
    },
    /// To a staff member: something that lets one into their account changed (ASVS 2.2.3,
    /// 2.5.5, 2.8.5), so that a change they did not make does not go unnoticed.
    AccountChanged {
        change: AccountChange<'a>,
        link: &'a str,
    },
    /// To a payer: an invoice or credit note was sent. Number and total only.
    Invoice {
        link: &'a str,
        number: &'a str,
        total: &'a str,
        org: &'a str,
        credit: bool,
    },
}

/// What [`Mail::AccountChanged`] reports.
#[derive(Debug, Clone, Copy)]
pub enum AccountChange<'a> {
    Password,
    /// The password set by an operator with `duurloop user reset-password`.
    PasswordByOperator,
    SecondFactor,
    /// The second factor removed by an operator with `duurloop user reset-second-factor`.
    SecondFactorRemoved,
    /// A new API token, with the name its maker gave it and what it may do.
    ApiToken(&'a str, duurloop_domain::access::TokenScope),
    /// Not a change but a notice: an API token stops working soon (its name, the date).
    TokenExpires(&'a str, &'a str),
    /// Not a change but a warning: the password was right and then the code was wrong so
    /// often that sign-in is blocked for a while (ASVS 2.8.5). Someone may know the password.
    WrongCodes(u32),
}

/// Queues the notice of an account change to the account's own address, in its language
/// (in the caller's transaction, so the notice goes out exactly when the change holds).
pub async fn notify_account_change(
    c: &mut Conn,
    state: &AppState,
    user: &store::users::UserRow,
    change: AccountChange<'_>,
) -> anyhow::Result<()> {
    notify_account_change_at(c, &state.config.base_url, state.now(), user, change).await
}

/// As [`notify_account_change`], for the command line, which has a configuration but no
/// running app: the notice waits in the outbox for the server's worker.
pub async fn notify_account_change_at(
    c: &mut Conn,
    base_url: &str,
    now: i64,
    user: &store::users::UserRow,
    change: AccountChange<'_>,
) -> anyhow::Result<()> {
    let link = format!("{base_url}/account");
    queue_at(
        c,
        now,
        Mail::AccountChanged {
            change,
            link: &link,
        },
        &user.email,
        &user.lang,
    )
    .await
    .map(|_| ())
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    paragraphs: &'a [String],
    link: &'a str,
    action: &'a str,
    footer: &'a str,
}

struct Composed {
    kind: &'static str,
    subject: String,
    paragraphs: Vec<String>,
    link: String,
    action: String,
}

fn compose(mail: &Mail<'_>, lang: Lang) -> Composed {
    match mail {
        Mail::Invitation {
            link,
            org_name,
            role,
            inviter,
        } => {
            let role_name = lang.t(&format!("role-{}", role.as_str()));
            Composed {
                kind: "invitation",
                subject: lang.t_args("mail-invitation-subject", &[("org", org_name)]),
                paragraphs: vec![
                    lang.t_args(
                        "mail-invitation-body",
                        &[
                            ("inviter", inviter),
                            ("org", org_name),
                            ("role", &role_name),
                        ],
                    ),
                    lang.t("mail-invitation-expiry"),
                ],
                link: link.to_string(),
                action: lang.t("mail-invitation-action"),
            }
        }
        Mail::NewReferral { link, days } => Composed {
            kind: "new_referral",
            subject: lang.t("mail-new-referral-subject"),
            paragraphs: vec![lang.t_args("mail-new-referral-body", &[("days", &days.to_string())])],
            link: link.to_string(),
            action: lang.t("mail-referral-action"),
        },
        Mail::ReferralStatus { link, status } => {
            let label = lang.t(&format!("status-{status}"));
            Composed {
                kind: "referral_status",
                subject: lang.t_args("mail-referral-status-subject", &[("status", &label)]),
                paragraphs: vec![lang.t_args("mail-referral-status-body", &[("status", &label)])],
                link: link.to_string(),
                action: lang.t("mail-referral-action"),
            }
        }
        Mail::ClientInvitation { link, therapist } => Composed {
            kind: "client_invitation",
            subject: lang.t("mail-client-invitation-subject"),
            paragraphs: vec![
                lang.t_args("mail-client-invitation-body", &[("therapist", therapist)]),
            ],
            link: link.to_string(),
            action: lang.t("mail-client-invitation-action"),
        },
        Mail::ReferralReminder {
            link,
            coordinator,
            place_offered,
        } => Composed {
            kind: "referral_reminder",
            subject: lang.t(if *place_offered {
                "mail-reminder-place-subject"
            } else {
                "mail-reminder-subject"
            }),
            paragraphs: vec![lang.t(match (place_offered, coordinator) {
                (false, false) => "mail-reminder-body",
                (false, true) => "mail-reminder-coordinator-body",
                (true, false) => "mail-reminder-place-body",
                (true, true) => "mail-reminder-place-coordinator-body",
            })],
            link: link.to_string(),
            action: lang.t("mail-referral-action"),
        },
        Mail::SessionCancelled {
            title,
            when,
            reason,
        } => Composed {
            kind: "session_cancelled",
            subject: lang.t_args("mail-session-cancelled-subject", &[("when", when)]),
            paragraphs: vec![lang.t_args(
                "mail-session-cancelled-body",
                &[("title", title), ("when", when), ("reason", reason)],
            )],
            link: String::new(),
            action: String::new(),
        },
        Mail::PlaceOffered { title } => Composed {
            kind: "place_offered",
            subject: lang.t("mail-place-offered-subject"),
            paragraphs: vec![lang.t_args("mail-place-offered-body", &[("title", title)])],
            link: String::new(),
            action: String::new(),
        },
        Mail::PlaceFreed { link } => Composed {
            kind: "place_freed",
            subject: lang.t("mail-place-freed-subject"),
            paragraphs: vec![lang.t("mail-place-freed-body")],
            link: link.to_string(),
            action: lang.t("mail-referral-action"),
        },
        Mail::Questionnaire { link, reminder } => Composed {
            kind: "questionnaire",
            subject: lang.t(if *reminder {
                "mail-questionnaire-reminder-subject"
            } else {
                "mail-questionnaire-subject"
            }),
            paragraphs: vec![lang.t("mail-questionnaire-body")],
            link: link.to_string(),
            action: lang.t("mail-questionnaire-action"),
        },
        Mail::QuestionnaireUnanswered { link } => Composed {
            kind: "questionnaire_unanswered",
            subject: lang.t("mail-questionnaire-unanswered-subject"),
            paragraphs: vec![lang.t("mail-questionnaire-unanswered-body")],
            link: link.to_string(),
            action: lang.t("mail-referral-action"),
        },
        Mail::SafetyAlert { link } => Composed {
            kind: "safety_alert",
            subject: lang.t("mail-safety-subject"),
            paragraphs: vec![lang.t("mail-safety-body")],
            link: link.to_string(),
            action: lang.t("mail-referral-action"),
        },
        Mail::FeedbackReport { link } => Composed {
            kind: "feedback_report",
            subject: lang.t("mail-feedback-subject"),
            paragraphs: vec![lang.t("mail-feedback-body")],
            link: link.to_string(),
            action: lang.t("mail-feedback-action"),
        },
        Mail::Invoice {
            link,
            number,
            total,
            org,
            credit,
        } => {
            let args = [("number", *number), ("total", *total), ("org", *org)];
            let kind = if *credit { "credit" } else { "invoice" };
            Composed {
                kind: "invoice",
                subject: lang.t_args(&format!("mail-{kind}-subject"), &args),
                paragraphs: vec![lang.t_args(&format!("mail-{kind}-body"), &args)],
                link: link.to_string(),
                action: lang.t("mail-invoice-action"),
            }
        }
        Mail::NewMessage {
            link,
            to_participant,
        } => {
            let who = if *to_participant {
                "participant"
            } else {
                "therapist"
            };
            Composed {
                kind: "new_message",
                subject: lang.t("mail-message-subject"),
                paragraphs: vec![lang.t(&format!("mail-message-body-{who}"))],
                link: link.to_string(),
                action: lang.t(&format!("mail-message-action-{who}")),
            }
        }
        Mail::PortalLink { link } => Composed {
            kind: "portal_link",
            subject: lang.t("mail-portal-subject"),
            paragraphs: vec![lang.t("mail-portal-body")],
            link: link.to_string(),
            action: lang.t("mail-portal-action"),
        },
        Mail::AccountChanged { change, link } => {
            let (what, body) = match change {
                AccountChange::Password => ("password", lang.t("mail-changed-body-password")),
                AccountChange::PasswordByOperator => (
                    "password-by-operator",
                    lang.t("mail-changed-body-password-by-operator"),
                ),
                AccountChange::SecondFactor => {
                    ("second-factor", lang.t("mail-changed-body-second-factor"))
                }
                AccountChange::SecondFactorRemoved => (
                    "second-factor-removed",
                    lang.t("mail-changed-body-second-factor-removed"),
                ),
                AccountChange::ApiToken(name, scope) => (
                    "api-token",
                    lang.t_args(
                        "mail-changed-body-api-token",
                        &[
                            ("name", name),
                            (
                                "scope",
                                &lang.t(&format!("tokens-scope-{}", scope.as_str())),
                            ),
                        ],
                    ),
                ),
                AccountChange::TokenExpires(name, date) => (
                    "token-expires",
                    lang.t_args(
                        "mail-changed-body-token-expires",
                        &[("name", name), ("date", date)],
                    ),
                ),
                AccountChange::WrongCodes(n) => (
                    "wrong-codes",
                    lang.t_args("mail-changed-body-wrong-codes", &[("n", &n.to_string())]),
                ),
            };
            // An expiring token is the owner's own doing: nothing to suspect.
            let paragraphs = match change {
                AccountChange::TokenExpires(..) => vec![body],
                _ => vec![body, lang.t("mail-changed-not-you")],
            };
            Composed {
                kind: if matches!(change, AccountChange::TokenExpires(..)) {
                    "token_expires"
                } else {
                    "account_changed"
                },
                subject: lang.t(&format!("mail-changed-subject-{what}")),
                paragraphs,
                link: link.to_string(),
                action: lang.t("mail-changed-action"),
            }
        }
        Mail::PasswordReset { link } => Composed {
            kind: "password_reset",
            subject: lang.t("mail-reset-subject"),
            paragraphs: vec![lang.t("mail-reset-body"), lang.t("mail-reset-ignore")],
            link: link.to_string(),
            action: lang.t("mail-reset-action"),
        },
    }
}

/// A mail body as the administrator's outbox shows it: every link token replaced by `…`.
/// Tokens are 43 URL-safe Base64 characters (`store::new_token`); a run of 40 or more such
/// characters is taken for one (ids are 36, words far shorter). So the outbox shows who got
/// which mail but is no way into a participant's portal or questionnaire, or into an account
/// (an invitation or a password reset). Delivery and the `.eml` files keep the real links.
pub fn redact_tokens(text: &str) -> String {
    const MIN: usize = 40;
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= MIN {
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A text with every e-mail address in it replaced by `<address>`, for logs.
pub fn without_addresses(text: &str) -> String {
    let part = |c: char| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if part(chars[i]) {
            let start = i;
            while i < chars.len() && (part(chars[i]) || chars[i] == '@') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.contains('@') {
                out.push_str("<address>");
            } else {
                out.push_str(&word);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Renders a message and writes it to the outbox in the caller's transaction.
pub async fn queue(
    c: &mut Conn,
    state: &AppState,
    mail: Mail<'_>,
    to: &str,
    lang: &str,
) -> anyhow::Result<String> {
    queue_at(c, state.now(), mail, to, lang).await
}

async fn queue_at(
    c: &mut Conn,
    now: i64,
    mail: Mail<'_>,
    to: &str,
    lang: &str,
) -> anyhow::Result<String> {
    let lang = Lang::parse(lang).unwrap_or_default();
    let m = compose(&mail, lang);
    let footer = lang.t("mail-footer");
    let action = if m.link.is_empty() {
        String::new()
    } else {
        format!("{}:\n{}\n\n", m.action, m.link)
    };
    let text = format!("{}\n\n{action}-- \n{footer}\n", m.paragraphs.join("\n\n"));
    let html = MailHtml {
        lang: lang.code(),
        subject: &m.subject,
        paragraphs: &m.paragraphs,
        link: &m.link,
        action: &m.action,
        footer: &footer,
    }
    .render()?;
    let id = store::outbox::enqueue(
        c,
        store::outbox::NewMail {
            kind: m.kind,
            to,
            subject: &m.subject,
            text: &text,
            html: &html,
            now,
        },
    )
    .await?;
    Ok(id)
}

/// How deliveries are made.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    fn from_config(state: &AppState) -> anyhow::Result<Self> {
        let url = state.config.smtp_url.expose();
        if url.is_empty() {
            std::fs::create_dir_all(&state.config.outbox_dir)?;
            Ok(Transport::Files(AsyncFileTransport::new(
                &state.config.outbox_dir,
            )))
        } else {
            Ok(Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build(),
            ))
        }
    }

    async fn send(&self, msg: Message) -> anyhow::Result<()> {
        match self {
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(Into::into),
            Transport::Files(t) => t.send(msg).await.map(|_| ()).map_err(Into::into),
        }
    }
}

/// Attempts before a message is given up on; waits grow with each attempt.
const MAX_ATTEMPTS: i64 = 6;
const LEASE_MS: i64 = 120_000;

fn backoff_ms(attempts: i64) -> i64 {
    30_000 * 2i64.pow(attempts.clamp(0, 10) as u32)
}

/// Sends every due message once. Returns how many were sent. Safe to run on several instances
/// at once: each message is claimed by exactly one.
pub async fn deliver_due(state: &AppState) -> anyhow::Result<usize> {
    let transport = Transport::from_config(state)?;
    let now = state.now();
    let ids = {
        let mut c = state.db.conn().await?;
        store::outbox::due(&mut c, now, 50).await?
    };
    let mut sent = 0;
    for id in ids {
        let mut c = state.db.conn().await?;
        if !store::outbox::claim(&mut c, &id, now, LEASE_MS).await? {
            continue;
        }
        let Some(row) = store::outbox::by_id(&mut c, &id).await? else {
            continue;
        };
        let result = match build_message(state, &row) {
            Ok(msg) => transport.send(msg).await,
            Err(e) => Err(e),
        };
        let now = state.now();
        match result {
            Ok(()) => {
                store::outbox::mark_sent(&mut c, &id, now).await?;
                sent += 1;
            }
            Err(e) => {
                let next = (row.attempts < MAX_ATTEMPTS).then(|| now + backoff_ms(row.attempts));
                // An SMTP server's refusal may quote the recipient ("550 <jan@…>: unknown
                // user"): the log gets the text without addresses. The outbox row keeps it
                // whole for the administrator, who sees the recipient anyway.
                let error = without_addresses(&e.to_string());
                tracing::warn!(mail_id = %id, attempts = row.attempts, %error, "mail delivery failed");
                store::outbox::mark_failed(&mut c, &id, &e.to_string(), next, now).await?;
            }
        }
    }
    Ok(sent)
}

fn build_message(state: &AppState, row: &store::outbox::MailRow) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .from(state.config.mail_from.parse()?)
        .to(row.to_addr.parse()?)
        .subject(row.subject.clone())
        .message_id(Some(format!("<{}@duurloop>", row.id)))
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))?)
}

/// The background worker: delivers due mail every interval, or at once when woken, until
/// `shutdown` resolves. A delivery in progress finishes before it stops.
pub async fn run_worker(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let interval = Duration::from_secs(state.config.worker_interval_seconds);
    let mut last_purge = None;
    let mut last_retention = None;
    let mut last_anchor = None;
    loop {
        if let Err(e) = crate::app::referrals::send_response_reminders(&state).await {
            tracing::error!(error = %e, "response reminders failed");
        }
        if let Err(e) = crate::app::trajectories::review_weeks(&state).await {
            tracing::error!(error = %e, "weekly plan review failed");
        }
        if let Err(e) = crate::app::measure::run_schedule(&state).await {
            tracing::error!(error = %e, "measurement schedule failed");
        }
        if let Err(e) = crate::app::accounts::remind_expiring_tokens(&state).await {
            tracing::error!(error = %e, "API token reminders failed");
        }
        crate::app::purge::when_due(&state, &mut last_purge).await;
        crate::app::retention::when_due(&state, &mut last_retention).await;
        crate::app::audit_chain::when_due(&state, &mut last_anchor).await;
        if let Err(e) = deliver_due(&state).await {
            tracing::error!(error = %e, "outbox worker run failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = state.mail_wakeup.notified() => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
    }
    tracing::info!("outbox worker stopped");
}

#[cfg(test)]
mod tests {
    use super::redact_tokens;

    #[test]
    fn logged_delivery_errors_name_no_addresses() {
        let e = "permanent error (550): 5.1.1 <jan.jansen+duur@example.nl>: Recipient address rejected; from noreply@duurloop.invalid";
        let logged = super::without_addresses(e);
        assert!(!logged.contains('@'), "{logged}");
        assert_eq!(
            logged,
            "permanent error (550): 5.1.1 <<address>>: Recipient address rejected; from <address>"
        );
    }

    #[test]
    fn the_outbox_view_hides_link_tokens_but_keeps_ids_and_text() {
        let token = crate::store::new_token();
        let id = crate::store::new_id();
        let body = format!(
            "Open https://x.example/portal/magic/{token} of <a href=\"https://x.example/invite/{token}\">hier</a>; \
             verslag https://x.example/feedback/{id}."
        );
        let shown = redact_tokens(&body);
        assert!(!shown.contains(&token), "{shown}");
        assert!(shown.contains("/portal/magic/…") && shown.contains("/invite/…\""));
        assert!(shown.contains(&format!("/feedback/{id}.")) && shown.starts_with("Open https"));
    }
}
