//! Extractors: who is asking, in which language, from where.
//!
//! - [`PageCtx`]: every page; knows the language, the CSRF token and (if signed in) the person.
//! - [`ApiActor`]: every authenticated API call; a personal API token in `Authorization: Bearer`
//!   (a `read` token only for GET and HEAD).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, Method, header, request::Parts},
};

use super::csrf::CsrfToken;
use crate::{
    app::{Actor, AppError, AuthVia, Identity, RequestCtx, auth},
    config::{Config, IpRange},
    i18n::Lang,
    state::AppState,
    store::users::SessionRow,
};

pub const SESSION_COOKIE: &str = "dl_session";
/// The session cookie's name when Duurloop is reached over HTTPS (ASVS 3.4.4): a browser keeps
/// a `__Host-` cookie only when it is `Secure`, has `Path=/` and no `Domain`, so it comes from
/// this exact host over HTTPS and no sibling subdomain or plain-HTTP page can set or replace
/// it.
pub const SESSION_COOKIE_HTTPS: &str = "__Host-dl_session";
pub const LANG_COOKIE: &str = "dl_lang";

/// The name of the staff session cookie: `__Host-dl_session` when cookies are `Secure`
/// (`base_url` is `https://`), else `dl_session` (a browser refuses a `__Host-` cookie that is
/// not `Secure`). Only that name is read: over HTTPS a plain `dl_session` is ignored.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.secure_cookies() {
        SESSION_COOKIE_HTTPS
    } else {
        SESSION_COOKIE
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request: the language cookie (set by the switch in the header), else
/// Dutch. Pages deliberately ignore `Accept-Language`: many Dutch care professionals use an
/// English-language browser, and the product is Dutch first. API clients (no cookie) may ask
/// for English with `Accept-Language`.
pub fn request_lang(headers: &HeaderMap, is_api: bool) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            is_api
                .then(|| headers.get(header::ACCEPT_LANGUAGE))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// The language the visitor chose with the switch (the language cookie), if they did: unlike
/// [`request_lang`] no default, so a caller can tell a choice from Dutch-by-default.
pub fn chosen_lang(headers: &HeaderMap) -> Option<Lang> {
    cookie(headers, LANG_COOKIE).and_then(Lang::parse)
}

/// Where a request comes from: the client IP (see [`client_ip`]) and the user agent.
pub(crate) fn request_ctx(parts: &Parts, state: &AppState) -> RequestCtx {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    request_ctx_from(peer, &parts.headers, state)
}

/// [`request_ctx`] from the TCP peer and the headers, for a layer that keeps those apart.
pub(crate) fn request_ctx_from(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    state: &AppState,
) -> RequestCtx {
    let ip = peer
        .map(|p| client_ip(p.ip(), headers, &state.config.trusted_proxies).to_string())
        .unwrap_or_else(|| "unknown".into());
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
        .unwrap_or_default();
    RequestCtx { ip, user_agent }
}

/// The client's IP address. When the TCP peer is one of the `trusted` proxies, it is the
/// right-most address in `X-Forwarded-For` (all instances of the header, in order) that is not
/// itself a trusted proxy, or the left-most if all are. Otherwise, or when the header is
/// missing or holds something that is not an IP address, it is the peer: a client that
/// connects directly cannot choose the address that is logged and throttled.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Right to left: the entries nearest to us were written by the proxies we trust.
    let mut left_most_trusted = None;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return peer;
        };
        for entry in value.rsplit(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(ip) => left_most_trusted = Some(ip),
                Ok(ip) => return ip,
                Err(_) => return peer,
            }
        }
    }
    left_most_trusted.unwrap_or(peer)
}

/// Everything a page handler needs about the request.
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    pub ctx: RequestCtx,
    /// The session behind the cookie, at any stage.
    pub session: Option<SessionRow>,
    /// The fully signed-in person (second factor passed where required).
    pub identity: Option<Identity>,
}

impl PageCtx {
    /// The signed-in person, or a redirect to the login page.
    pub fn actor(&self) -> Result<Actor, AppError> {
        match &self.identity {
            Some(identity) => Ok(Actor {
                identity: identity.clone(),
                ctx: self.ctx.clone(),
            }),
            None => Err(AppError::Unauthenticated),
        }
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let lang = request_lang(&parts.headers, false);
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let session = match cookie(&parts.headers, session_cookie_name(&state.config)) {
            Some(token) => auth::session(state, token).await?,
            None => None,
        };
        let identity = match &session {
            Some(s) if s.stage == auth::STAGE_FULL => {
                auth::identity(state, &s.user_id, AuthVia::Session(s.id_hash.clone())).await?
            }
            _ => None,
        };
        Ok(PageCtx {
            lang,
            csrf,
            path: parts.uri.path().to_string(),
            ctx: request_ctx(parts, state),
            session,
            identity,
        })
    }
}

/// Where a request comes from (IP, user agent), for the audit log of calls without an
/// account.
pub struct FromWhere(pub RequestCtx);

impl FromRequestParts<AppState> for FromWhere {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(FromWhere(request_ctx(parts, state)))
    }
}

/// The token in `Authorization: Bearer …`, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_in(&parts.headers)
}

pub fn bearer_in(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The person behind an API call with a personal token. A `read` token is refused here, for
/// every route at once, on any method but GET and HEAD: 403 `read-only-token`.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthenticated)?;
        let (identity, scope) = auth::identity_for_api_token(state, token)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let safe = parts.method == Method::GET || parts.method == Method::HEAD;
        if !scope.allows(safe) {
            return Err(AppError::NotAllowed("read-only-token"));
        }
        Ok(ApiActor(Actor {
            identity,
            ctx: request_ctx(parts, state),
        }))
    }
}

/// Set-Cookie value for the session (HttpOnly, SameSite=Lax, `Path=/`, never a `Domain`;
/// Secure and named `__Host-dl_session` behind HTTPS).
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let name = session_cookie_name(&state.config);
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

pub fn clear_session_cookie(state: &AppState) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let name = session_cookie_name(&state.config);
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

pub fn lang_cookie(state: &AppState, lang: Lang) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang.code()
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn ranges(list: &[&str]) -> Vec<IpRange> {
        list.iter().map(|s| s.parse().expect("range")).collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        let h = forwarded(&["203.0.113.7"]);
        let peer = ip("198.51.100.9");
        assert_eq!(
            client_ip(peer, &h, &[]),
            peer,
            "nothing trusted (the default)"
        );
        assert_eq!(client_ip(peer, &h, &ranges(&["10.0.0.0/8"])), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_address_is_the_client() {
        let trusted = ranges(&["10.0.0.0/8"]);
        let proxy1 = ip("10.0.0.1");
        // client → proxy2 → proxy1 → us; the client may have sent a forged entry first.
        let h = forwarded(&["6.6.6.6, 203.0.113.7, 10.0.0.2"]);
        assert_eq!(client_ip(proxy1, &h, &trusted), ip("203.0.113.7"));
        let h = forwarded(&["6.6.6.6", " 203.0.113.7 ,10.0.0.2 "]);
        assert_eq!(
            client_ip(proxy1, &h, &trusted),
            ip("203.0.113.7"),
            "every instance of the header counts, in order"
        );
        let h = forwarded(&["2001:db8::7"]);
        assert_eq!(client_ip(proxy1, &h, &trusted), ip("2001:db8::7"));
    }

    #[test]
    fn when_every_forwarded_address_is_trusted_the_left_most_is_the_client() {
        let trusted = ranges(&["10.0.0.0/8", "fd00::/8"]);
        let h = forwarded(&["10.1.1.1, fd00::2, 10.0.0.2"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.1.1.1"));
    }

    #[test]
    fn a_missing_or_malformed_header_falls_back_to_the_peer() {
        let trusted = ranges(&["::1/128", "127.0.0.1"]);
        let peer = ip("::1");
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
        for bad in ["unknown", "203.0.113.7, not-an-ip", "203.0.113.7:443", ""] {
            assert_eq!(client_ip(peer, &forwarded(&[bad]), &trusted), peer, "{bad}");
        }
        let h = forwarded(&["203.0.113.7"]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("203.0.113.7"),
            "an IPv4 peer on a dual-stack socket is matched as IPv4"
        );
    }
}
