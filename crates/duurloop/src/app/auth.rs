//! Signing in and out, the second factor, sessions, password resets and invitations (SPEC C1).

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use duurloop_domain::{
    EmailAddress, NewPassword, PersonName, Role,
    access::{TokenScope, second_factor_required},
    password::{self, Strength},
    totp::TotpSecret,
};

use super::{
    Actor, AppError, AppResult, AuthVia, Identity, RequestCtx,
    audit::{Event, record_anonymous},
};
use crate::{
    mail,
    state::AppState,
    store::{self, Conn, new_token, users},
};

/// Session stages: a password was given but the code is still due (`totp`), the account must
/// first enrol a second factor (`enrol`), or fully signed in (`full`).
pub const STAGE_TOTP: &str = "totp";
pub const STAGE_ENROL: &str = "enrol";
pub const STAGE_FULL: &str = "full";

pub fn hash_password_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

pub async fn hash_password(password: &str) -> anyhow::Result<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || hash_password_blocking(&pw)).await?
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let (pw, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A new session: the token for the cookie and the stage it is in.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub stage: &'static str,
}

async fn stage_after_password(
    c: &mut Conn,
    user: &users::UserRow,
) -> Result<&'static str, sqlx::Error> {
    if user.totp_secret.is_some() {
        return Ok(STAGE_TOTP);
    }
    let ms: Vec<_> = users::memberships_of(c, &user.id)
        .await?
        .iter()
        .filter_map(users::MembershipRow::to_domain)
        .collect();
    Ok(if second_factor_required(user.is_admin != 0, &ms) {
        STAGE_ENROL
    } else {
        STAGE_FULL
    })
}

/// Checks e-mail and password. Unknown accounts, wrong passwords and throttled attempts all get
/// the same answer after the same amount of work (an argon2 verification).
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    ctx: &RequestCtx,
) -> AppResult<NewSession> {
    let now = state.now();
    let account = email.trim().to_lowercase();
    let mut c = state.db.conn().await?;
    let (acc_fail, ip_fail) =
        store::security::failures_since(&mut c, &account, &ctx.ip, now - state.throttle.window_ms)
            .await?;
    let throttled = state.throttle.is_throttled(acc_fail, ip_fail);
    let user = users::by_email(&mut c, &account).await?;
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let password_ok = verify_password(password, &hash).await;
    let mut tx = state.db.begin().await?;
    match user {
        Some(u) if password_ok && !throttled && u.password_hash.is_some() => {
            store::security::clear_failures(&mut tx, &account).await?;
            let stage = stage_after_password(&mut tx, &u).await?;
            let token = new_token();
            users::create_session(&mut tx, &token, &u.id, stage, now, &ctx.user_agent).await?;
            record_anonymous(
                &mut tx,
                now,
                ctx,
                Event::new("login", "session").subject(&u.id),
            )
            .await?;
            tx.commit().await?;
            Ok(NewSession { token, stage })
        }
        user => {
            store::security::record_failure(&mut tx, &account, &ctx.ip, now).await?;
            let outcome = if throttled { "throttled" } else { "failed" };
            let mut e = Event::new("login", "session").outcome(outcome);
            if let Some(u) = &user {
                e = e.subject(&u.id);
            }
            record_anonymous(&mut tx, now, ctx, e).await?;
            tx.commit().await?;
            Err(AppError::LoginFailed)
        }
    }
}

/// Asks a signed-in person for their password again before a sensitive change (ASVS 3.7.1:
/// a new API token). A wrong password counts as a failed login for the account and the
/// client, so guessing here is throttled like guessing at the login page; over the limit
/// even the right password is refused for a while.
pub async fn confirm_password(state: &AppState, actor: &Actor, password: &str) -> AppResult<()> {
    let now = state.now();
    let account = actor.identity.email.to_lowercase();
    let mut c = state.db.conn().await?;
    let (acc_fail, ip_fail) = store::security::failures_since(
        &mut c,
        &account,
        &actor.ctx.ip,
        now - state.throttle.window_ms,
    )
    .await?;
    let throttled = state.throttle.is_throttled(acc_fail, ip_fail);
    let hash = users::by_id(&mut c, &actor.identity.user_id)
        .await?
        .and_then(|u| u.password_hash)
        .unwrap_or_else(|| state.dummy_hash.clone());
    drop(c);
    if verify_password(password, &hash).await && !throttled {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    store::security::record_failure(&mut tx, &account, &actor.ctx.ip, now).await?;
    super::audit::record(
        &mut tx,
        now,
        actor,
        Event::new("confirm_password", "user")
            .record(&actor.identity.user_id)
            .subject(&actor.identity.user_id)
            .outcome(if throttled { "throttled" } else { "failed" }),
    )
    .await?;
    tx.commit().await?;
    Err(AppError::invalid("password", "wrong-password"))
}

/// The session behind a cookie token, if it is still valid; refreshes its idle timer.
pub async fn session(state: &AppState, token: &str) -> AppResult<Option<users::SessionRow>> {
    let now = state.now();
    let mut c = state.db.conn().await?;
    let Some(s) = users::session(&mut c, token).await? else {
        return Ok(None);
    };
    if state
        .session_policy
        .is_expired(s.created_at, s.last_seen_at, now)
    {
        users::delete_session(&mut c, &s.id_hash).await?;
        return Ok(None);
    }
    // Writing on every request would serialise readers on SQLite; a minute of slack is enough.
    if now - s.last_seen_at > 60_000 {
        users::touch_session(&mut c, &s.id_hash, now).await?;
    }
    Ok(Some(s))
}

/// Loads the person behind a user id with their memberships.
pub async fn identity(
    state: &AppState,
    user_id: &str,
    via: AuthVia,
) -> AppResult<Option<Identity>> {
    let mut c = state.db.conn().await?;
    let Some(u) = users::by_id(&mut c, user_id).await? else {
        return Ok(None);
    };
    let memberships = users::memberships_of(&mut c, user_id).await?;
    Ok(Some(Identity {
        user_id: u.id,
        name: u.name,
        email: u.email,
        is_admin: u.is_admin != 0,
        lang: u.lang,
        memberships,
        via,
    }))
}

/// The person behind an API token, with what the token may do.
pub async fn identity_for_api_token(
    state: &AppState,
    token: &str,
) -> AppResult<Option<(Identity, TokenScope)>> {
    let now = state.now();
    let owner = {
        let mut c = state.db.conn().await?;
        users::api_token_user(&mut c, token, now).await?
    };
    match owner {
        Some((id, scope)) => Ok(identity(state, &id, AuthVia::ApiToken)
            .await?
            .map(|i| (i, scope))),
        None => Ok(None),
    }
}

/// Replaces a session by a new one at another stage (session rotation: a token seen before a
/// privilege change is worthless after it).
async fn rotate(
    c: &mut Conn,
    old_hash: &str,
    user_id: &str,
    stage: &'static str,
    now: i64,
    ctx: &RequestCtx,
) -> AppResult<NewSession> {
    users::delete_session(c, old_hash).await?;
    let token = new_token();
    users::create_session(c, &token, user_id, stage, now, &ctx.user_agent).await?;
    Ok(NewSession { token, stage })
}

/// Second step of login: the code from the authenticator app.
pub async fn verify_second_factor(
    state: &AppState,
    session: &users::SessionRow,
    code: &str,
    ctx: &RequestCtx,
) -> AppResult<NewSession> {
    if session.stage != STAGE_TOTP {
        return Err(AppError::Forbidden);
    }
    let now = state.now();
    let account = format!("totp:{}", session.user_id);
    let mut tx = state.db.begin().await?;
    let (acc_fail, _) =
        store::security::failures_since(&mut tx, &account, &ctx.ip, now - state.throttle.window_ms)
            .await?;
    let user = users::by_id(&mut tx, &session.user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let secret = state.secret_key.open(&user.id, user.totp_secret.as_deref());
    let step = secret.and_then(|s| s.verify(code, now.div_euclid(1000), user.totp_last_step));
    let ok = match step {
        Some(step) if acc_fail < state.throttle.max_failures_per_account => {
            users::use_totp_step(&mut tx, &user.id, step).await?
        }
        _ => false,
    };
    if !ok {
        store::security::record_failure(&mut tx, &account, &ctx.ip, now).await?;
        record_anonymous(
            &mut tx,
            now,
            ctx,
            Event::new("second_factor", "session")
                .subject(&user.id)
                .outcome("failed"),
        )
        .await?;
        // The failure that blocks the account is told to its owner, once: the password was
        // right, so someone else may know it.
        let limit = state.throttle.max_failures_per_account;
        if acc_fail + 1 == limit {
            let n = u32::try_from(limit).unwrap_or(u32::MAX);
            mail::notify_account_change(&mut tx, state, &user, mail::AccountChange::WrongCodes(n))
                .await?;
        }
        tx.commit().await?;
        state.mail_wakeup.notify_one();
        return Err(AppError::invalid("code", "code-wrong"));
    }
    store::security::clear_failures(&mut tx, &account).await?;
    let s = rotate(&mut tx, &session.id_hash, &user.id, STAGE_FULL, now, ctx).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("second_factor", "session").subject(&user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// What an authenticator app needs to enrol.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

/// Starts (or shows again) enrolment of a second factor: a pending secret until confirmed.
pub async fn begin_enrolment(state: &AppState, user_id: &str) -> AppResult<Enrolment> {
    let mut c = state.db.conn().await?;
    let user = users::by_id(&mut c, user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let secret = match state
        .secret_key
        .open(&user.id, user.totp_pending_secret.as_deref())
    {
        Some(s) => s,
        None => {
            use rand::RngCore;
            let mut bytes = vec![0u8; 20];
            rand::thread_rng().fill_bytes(&mut bytes);
            let s = TotpSecret::from_bytes(bytes);
            users::set_totp_pending(&mut c, user_id, &state.secret_key.seal(user_id, &s)?).await?;
            s
        }
    };
    Ok(Enrolment {
        secret_base32: secret.to_base32(),
        otpauth_uri: secret.otpauth_uri("Duurloop", &user.email),
    })
}

/// Confirms enrolment with a first code; the session becomes fully signed in.
pub async fn confirm_enrolment(
    state: &AppState,
    session: &users::SessionRow,
    code: &str,
    ctx: &RequestCtx,
) -> AppResult<NewSession> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let user = users::by_id(&mut tx, &session.user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let pending = state
        .secret_key
        .open(&user.id, user.totp_pending_secret.as_deref())
        .ok_or(AppError::Conflict("enrolment-not-started"))?;
    let step = pending
        .verify(code, now.div_euclid(1000), None)
        .ok_or(AppError::invalid("code", "code-wrong"))?;
    let sealed = state.secret_key.seal(&user.id, &pending)?;
    users::activate_totp(&mut tx, &user.id, &sealed, step).await?;
    let s = rotate(&mut tx, &session.id_hash, &user.id, STAGE_FULL, now, ctx).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("enrol_second_factor", "user")
            .record(&user.id)
            .subject(&user.id),
    )
    .await?;
    mail::notify_account_change(&mut tx, state, &user, mail::AccountChange::SecondFactor).await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(s)
}

/// Ends a session when its person signs out (audit-logged: an authentication event).
pub async fn logout(
    state: &AppState,
    session: &users::SessionRow,
    ctx: &RequestCtx,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    users::delete_session(&mut tx, &session.id_hash).await?;
    record_anonymous(
        &mut tx,
        state.now(),
        ctx,
        Event::new("logout", "user")
            .record(&session.user_id)
            .subject(&session.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the session a new login replaces (the login itself is logged).
pub async fn end_session(state: &AppState, session_hash: &str) -> AppResult<()> {
    let mut c = state.db.conn().await?;
    users::delete_session(&mut c, session_hash).await?;
    Ok(())
}

/// How long a password-reset link works: ten minutes, as a portal sign-in link
/// ([`super::portal::LINK_TTL_MS`], OWASP ASVS 2.7.2); the mail leaves at once.
pub const RESET_TTL_MS: i64 = 10 * 60_000;

/// Sends a reset link if the address belongs to an account. The answer is the same either way,
/// and also over the mail limits ([`mail_request_allowed`]): then nothing is sent and the audit
/// entry says `throttled`.
pub async fn request_password_reset(
    state: &AppState,
    email: &str,
    lang: &str,
    ctx: &RequestCtx,
) -> AppResult<()> {
    let Ok(email) = EmailAddress::parse(email) else {
        return Err(AppError::invalid("email", "invalid-email"));
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let user = users::by_email(&mut tx, email.as_str()).await?;
    if !mail_request_allowed(&mut tx, state, email.as_str(), ctx, now).await? {
        let mut e = Event::new("request_password_reset", "user").outcome("throttled");
        if let Some(u) = &user {
            e = e.record(&u.id).subject(&u.id);
        }
        record_anonymous(&mut tx, now, ctx, e).await?;
    } else if let Some(user) = user {
        let token = new_token();
        users::insert_password_reset(&mut tx, &token, &user.id, now, now + RESET_TTL_MS).await?;
        let link = format!("{}/password/reset/{token}", state.config.base_url);
        mail::queue(
            &mut tx,
            state,
            mail::Mail::PasswordReset { link: &link },
            &user.email,
            if user.lang.is_empty() {
                lang
            } else {
                &user.lang
            },
        )
        .await?;
        record_anonymous(
            &mut tx,
            now,
            ctx,
            Event::new("request_password_reset", "user")
                .record(&user.id)
                .subject(&user.id),
        )
        .await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// Whether a request to e-mail a link to `address` (password reset, portal sign-in) is within
/// the limits of `state.mail_throttle` (per address and per client IP); if so it is counted.
/// Known and unknown addresses are counted alike, so the limits reveal nothing about accounts.
pub(crate) async fn mail_request_allowed(
    c: &mut Conn,
    state: &AppState,
    address: &str,
    ctx: &RequestCtx,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let p = &state.mail_throttle;
    let (to_address, from_ip) = store::security::mail_requests_since(
        c,
        address,
        &ctx.ip,
        now - p.address_window_ms,
        now - p.ip_window_ms,
    )
    .await?;
    if p.is_throttled(to_address, from_ip) {
        return Ok(false);
    }
    store::security::record_mail_request(c, address, &ctx.ip, now).await?;
    Ok(true)
}

/// Whether a reset link is still usable (to show the form or an explanation).
pub async fn password_reset_valid(state: &AppState, token: &str) -> AppResult<bool> {
    let mut c = state.db.conn().await?;
    Ok(users::password_reset_user(&mut c, token, state.now())
        .await?
        .is_some())
}

/// The address and name of the account a reset link is for (empty for an unknown or spent
/// link): the words a new password set from it may not be made of.
async fn reset_context(state: &AppState, token: &str) -> AppResult<Vec<String>> {
    let mut c = state.db.conn().await?;
    let owner = match users::password_reset_user(&mut c, token, state.now()).await? {
        Some(id) => users::by_id(&mut c, &id).await?,
        None => None,
    };
    Ok(owner.map(|u| vec![u.email, u.name]).unwrap_or_default())
}

/// What the strength meter sends while a new password is typed (ASVS 2.1.8): the password,
/// and to judge it for the right account, the reset link or invitation it is set from and
/// the name typed on the invitation form. `Debug` never shows the password.
#[derive(Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct StrengthCheck {
    pub password: String,
    pub name: String,
    pub reset: String,
    pub invite: String,
}

impl std::fmt::Debug for StrengthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StrengthCheck(<redacted>)")
    }
}

/// Judges a new password while it is typed, with the same function and the same account
/// words as the form's submit (`reset_password`, `accept_invitation`, `change_password`):
/// what this calls acceptable is what the submit accepts, the confirmation aside. Open to
/// anyone (the reset and invitation forms are used signed out); it reads only the account
/// words behind a link the caller holds, changes nothing, and never logs or keeps the
/// password.
///
/// Each check costs zxcvbn some milliseconds of CPU, and the route is open to anyone, so the
/// checks run on the blocking pool, at most [`strength_checks_at_once`] at a time; a check
/// that finds them all taken is answered 429 `busy` at once (the meter keeps its last
/// judgement, and the submit judges again anyway). A flood of checks therefore takes at most
/// half the machine's cores and never the threads that answer the other requests.
pub async fn password_strength(
    state: &AppState,
    signed_in: Option<&Identity>,
    input: &StrengthCheck,
) -> AppResult<Strength> {
    let permit = state
        .strength_checks
        .clone()
        .try_acquire_owned()
        .map_err(|_| AppError::Busy)?;
    let context = if !input.reset.is_empty() {
        reset_context(state, &input.reset).await?
    } else if !input.invite.is_empty() {
        let mut c = state.db.conn().await?;
        let email = users::invitation_by_token(&mut c, &input.invite)
            .await?
            .filter(|inv| inv.accepted_at.is_none() && inv.expires_at > state.now())
            .map(|inv| inv.email);
        let name = PersonName::parse(&input.name)
            .map(|n| n.as_str().to_string())
            .unwrap_or_default();
        email.into_iter().chain([name]).collect()
    } else if let Some(i) = signed_in {
        vec![i.email.clone(), i.name.clone()]
    } else {
        Vec::new()
    };
    let password = input.password.clone();
    let judged = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        password::strength(&password, &context)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(judged)
}

/// How many password strength checks may run at once: half the cores, at least one.
pub fn strength_checks_at_once() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}

/// Sets a new password from a reset link; every session of the account ends.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: &str,
    confirm: &str,
    ctx: &RequestCtx,
) -> AppResult<()> {
    // The account's address and name, so the new password may not be made of them; an
    // unknown or spent link is refused below, after the password's own checks.
    let context = reset_context(state, token).await?;
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let pw = NewPassword::parse(password, confirm, &context)
        .map_err(|e| AppError::field("password", e))?;
    let hash = hash_password(pw.expose()).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let user_id = users::password_reset_user(&mut tx, token, now)
        .await?
        .ok_or(AppError::NotFound)?;
    if !users::use_password_reset(&mut tx, token, now).await? {
        return Err(AppError::NotFound);
    }
    users::set_password(&mut tx, &user_id, &hash).await?;
    users::delete_sessions_of(&mut tx, &user_id).await?;
    store::security::clear_failures(&mut tx, &format!("totp:{user_id}")).await?;
    if let Some(user) = users::by_id(&mut tx, &user_id).await? {
        mail::notify_account_change(&mut tx, state, &user, mail::AccountChange::Password).await?;
    }
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("reset_password", "user")
            .record(&user_id)
            .subject(&user_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// What the account page's password form sends.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PasswordChange {
    pub current: String,
    pub password: String,
    pub confirm: String,
}

/// Changes a signed-in person's password: the current one first (ASVS 2.1.5, 2.1.6), then the
/// new one twice. Every other session of the person ends (ASVS 3.3.3); the one that made the
/// change stays. The account's address is told (2.2.3).
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    session_hash: &str,
    input: &PasswordChange,
) -> AppResult<()> {
    let pw = NewPassword::parse(
        &input.password,
        &input.confirm,
        &[&actor.identity.email, &actor.identity.name],
    )
    .map_err(|e| AppError::field("password", e))?;
    confirm_password(state, actor, &input.current)
        .await
        .map_err(|e| match e {
            AppError::Invalid(_) => AppError::invalid("current", "wrong-password"),
            e => e,
        })?;
    let hash = hash_password(pw.expose()).await?;
    let now = state.now();
    let user_id = &actor.identity.user_id;
    let mut tx = state.db.begin().await?;
    users::set_password(&mut tx, user_id, &hash).await?;
    users::delete_other_sessions(&mut tx, user_id, session_hash).await?;
    super::audit::record(
        &mut tx,
        now,
        actor,
        Event::new("change_password", "user")
            .record(user_id)
            .subject(user_id),
    )
    .await?;
    if let Some(user) = users::by_id(&mut tx, user_id).await? {
        mail::notify_account_change(&mut tx, state, &user, mail::AccountChange::Password).await?;
    }
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// An invitation as its recipient sees it.
pub struct InvitationView {
    pub email: String,
    pub org_name: String,
    pub role: Role,
    /// An account with this address exists already: accepting adds a membership to it.
    pub existing_account: bool,
}

pub async fn invitation(state: &AppState, token: &str) -> AppResult<InvitationView> {
    let mut c = state.db.conn().await?;
    let inv = users::invitation_by_token(&mut c, token)
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.accepted_at.is_some() || inv.expires_at <= state.now() {
        return Err(AppError::NotFound);
    }
    let existing = users::by_email(&mut c, &inv.email).await?.is_some();
    Ok(InvitationView {
        email: inv.email,
        org_name: inv.org_name,
        role: Role::parse(&inv.role).map_err(|_| AppError::NotFound)?,
        existing_account: existing,
    })
}

/// Accepts an invitation. A new person chooses a name and password and is signed in (to enrol
/// a second factor first where the role needs one). An existing account must be signed in as
/// the invited address; the membership is added to it.
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    signed_in: Option<&Identity>,
    name: &str,
    password: &str,
    confirm: &str,
    ctx: &RequestCtx,
) -> AppResult<Option<NewSession>> {
    let now = state.now();
    let mut c = state.db.conn().await?;
    let inv = users::invitation_by_token(&mut c, token)
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.accepted_at.is_some() || inv.expires_at <= now {
        return Err(AppError::NotFound);
    }
    let role = Role::parse(&inv.role).map_err(|_| AppError::NotFound)?;
    let existing = users::by_email(&mut c, &inv.email).await?;
    drop(c);
    if let Some(user) = existing {
        if signed_in.map(|i| i.user_id.as_str()) != Some(user.id.as_str()) {
            return Err(AppError::Conflict("invitation-sign-in-first"));
        }
        let mut tx = state.db.begin().await?;
        if !users::accept_invitation(&mut tx, &inv.id, now).await? {
            return Err(AppError::NotFound);
        }
        users::upsert_membership(&mut tx, &user.id, &inv.org_id, role, now).await?;
        record_anonymous(
            &mut tx,
            now,
            ctx,
            Event::new("accept_invitation", "membership")
                .record(&inv.id)
                .subject(&user.id)
                .org(&inv.org_id),
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    let mut errors = Vec::new();
    let name = PersonName::parse(name)
        .map_err(|e| {
            errors.push(super::FieldError {
                field: "name",
                key: e.key,
            })
        })
        .ok();
    let given_name = name.as_ref().map(PersonName::as_str).unwrap_or_default();
    let pw = NewPassword::parse(password, confirm, &[&inv.email, given_name])
        .map_err(|e| {
            errors.push(super::FieldError {
                field: "password",
                key: e.key,
            })
        })
        .ok();
    let (Some(name), Some(pw)) = (name, pw) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = hash_password(pw.expose()).await?;
    let mut tx = state.db.begin().await?;
    if !users::accept_invitation(&mut tx, &inv.id, now).await? {
        return Err(AppError::NotFound);
    }
    let user_id = users::insert(
        &mut tx,
        users::NewUser {
            email: &inv.email,
            name: name.as_str(),
            password_hash: Some(&hash),
            is_admin: false,
            now,
        },
    )
    .await
    .map_err(|e| {
        if store::is_unique_violation(&e) {
            AppError::Conflict("email-taken")
        } else {
            e.into()
        }
    })?;
    users::upsert_membership(&mut tx, &user_id, &inv.org_id, role, now).await?;
    let stage = if role.requires_second_factor() {
        STAGE_ENROL
    } else {
        STAGE_FULL
    };
    let token = new_token();
    users::create_session(&mut tx, &token, &user_id, stage, now, &ctx.user_agent).await?;
    record_anonymous(
        &mut tx,
        now,
        ctx,
        Event::new("accept_invitation", "membership")
            .record(&inv.id)
            .subject(&user_id)
            .org(&inv.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(NewSession { token, stage }))
}
