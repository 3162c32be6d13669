//! Server-rendered pages (askama templates in `templates/`, one struct per page).

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod directory;
pub mod feedback;
pub mod funding;
pub mod groups;
pub mod home;
pub mod measure;
pub mod orgs;
pub mod portal;
pub mod referrals;
pub mod reports;
pub mod research;
pub mod trajectories;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::{ctx::PageCtx, routes::RouteTable};
use crate::{app::AppError, i18n::Lang};

pub fn routes(t: RouteTable) -> RouteTable {
    let t = home::routes(t);
    let t = auth::routes(t);
    let t = account::routes(t);
    let t = orgs::routes(t);
    let t = admin::routes(t);
    let t = directory::routes(t);
    let t = referrals::routes(t);
    let t = trajectories::routes(t);
    let t = groups::routes(t);
    let t = portal::routes(t);
    let t = measure::routes(t);
    let t = feedback::routes(t);
    let t = reports::routes(t);
    let t = research::routes(t);
    let t = funding::routes(t);
    audit::routes(t)
}

/// The signed-in person as the navigation shows them.
pub struct NavUser {
    pub name: String,
    pub is_admin: bool,
    /// Organisations this person coordinates: (id, name).
    pub coordinated: Vec<(String, String)>,
    /// Whether the person refers, treats or coordinates (and so has a referrals page).
    pub handles_referrals: bool,
    /// Whether the person coordinates or funds somewhere (and so has invoices to see).
    pub sees_invoices: bool,
}

/// What the layout needs on every page.
pub struct Base {
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    pub title: String,
    pub user: Option<NavUser>,
}

impl Base {
    pub fn new(page: &PageCtx, title_key: &str) -> Self {
        let user = page.identity.as_ref().map(|i| NavUser {
            name: i.name.clone(),
            is_admin: i.is_admin,
            coordinated: i
                .coordinated_orgs()
                .iter()
                .map(|m| (m.org_id.clone(), m.org_name.clone()))
                .collect(),
            handles_referrals: i
                .memberships
                .iter()
                .any(|m| matches!(m.role.as_str(), "referrer" | "therapist" | "coordinator")),
            sees_invoices: i
                .memberships
                .iter()
                .any(|m| matches!(m.role.as_str(), "coordinator" | "funder")),
        });
        Self {
            lang: page.lang,
            csrf: page.csrf.clone(),
            path: page.path.clone(),
            title: page.lang.t(title_key),
            user,
        }
    }

    /// For pages rendered outside a handler (error pages).
    pub fn plain(lang: Lang, title_key: &str) -> Self {
        Self {
            lang,
            csrf: String::new(),
            path: "/".into(),
            title: lang.t(title_key),
            user: None,
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The text for `{prefix}-{code}`, e.g. `tp("kind", "walking_group")`.
    pub fn tp(&self, prefix: &str, code: impl std::fmt::Display) -> String {
        self.lang.t(&format!("{prefix}-{code}"))
    }

    pub fn ta(&self, key: &str, name: &'static str, value: impl std::fmt::Display) -> String {
        self.lang.t_args(key, &[(name, &value.to_string())])
    }

    pub fn ta2(
        &self,
        key: &str,
        n1: &'static str,
        v1: impl std::fmt::Display,
        n2: &'static str,
        v2: impl std::fmt::Display,
    ) -> String {
        self.lang
            .t_args(key, &[(n1, &v1.to_string()), (n2, &v2.to_string())])
    }

    pub fn role(&self, role: &str) -> String {
        self.lang.t(&format!("role-{role}"))
    }

    pub fn kind(&self, kind: &str) -> String {
        self.lang.t(&format!("org-kind-{kind}"))
    }

    pub fn status(&self, status: &str) -> String {
        self.lang.t(&format!("status-{status}"))
    }

    /// Translates each code of a comma-separated list (`,stress,sleep,`) with a key prefix.
    pub fn codes(&self, prefix: &str, list: &str) -> String {
        list.split(',')
            .filter(|s| !s.is_empty())
            .map(|c| self.lang.t(&format!("{prefix}-{c}")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Cents as an amount to edit, `12,50`.
    pub fn decimal_euros(&self, cents: &i64) -> String {
        format!("{},{:02}", cents / 100, cents % 100)
    }

    pub fn euros(&self, cents: &i64) -> String {
        format!("€ {},{:02}", cents / 100, cents % 100)
    }

    pub fn time(&self, ms: &i64) -> String {
        crate::clock::format_local(*ms)
    }

    /// The date (`dd-mm-jjjj`, Europe/Amsterdam) of an instant.
    pub fn date(&self, ms: &i64) -> String {
        crate::clock::format_local_date(*ms)
    }

    pub fn back_path(&self) -> String {
        form_urlencoded::byte_serialize(self.path.as_bytes()).collect()
    }

    /// Metres as kilometres with one decimal, in the page's style (`12,4 km`, `12.4 km`).
    pub fn km(&self, metres: impl std::borrow::Borrow<i64>) -> String {
        let tenths = ((*metres.borrow()).max(0) + 50) / 100;
        let sep = if self.lang.code() == "nl" { ',' } else { '.' };
        format!("{}{sep}{} km", tenths / 10, tenths % 10)
    }

    /// Where the language switch goes: on portal pages the portal's own switch, which also
    /// changes the language of the participant's mails (the portal cookie is not sent
    /// outside `/portal`).
    pub fn lang_href(&self, code: &str) -> String {
        let prefix = if self.path == "/portal" || self.path.starts_with("/portal/") {
            "/portal"
        } else {
            ""
        };
        format!("{prefix}/lang/{code}?back={}", self.back_path())
    }
}

/// Field messages of a failed form, translated, for re-rendering the form.
#[derive(Default)]
pub struct FormErrors(pub Vec<(&'static str, String)>);

impl FormErrors {
    pub fn from_app(lang: Lang, e: &AppError) -> Option<Self> {
        match e {
            AppError::Invalid(fields) => Some(Self(
                fields.iter().map(|f| (f.field, lang.t(f.key))).collect(),
            )),
            AppError::Conflict(key) => Some(Self(vec![("form", lang.t(&format!("error-{key}")))])),
            _ => None,
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn all(&self) -> &[(&'static str, String)] {
        &self.0
    }
}

/// A form that failed validation is shown again with its messages (422 Unprocessable
/// Entity); any other error passes on to the error page.
pub async fn show_again<F, Fut>(lang: Lang, e: AppError, form: F) -> Result<Response, AppError>
where
    F: FnOnce(FormErrors) -> Fut,
    Fut: std::future::Future<Output = Result<Response, AppError>>,
{
    match FormErrors::from_app(lang, &e) {
        Some(errors) => {
            let mut resp = form(errors).await?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        None => Err(e),
    }
}

pub fn render<T: Template>(page: T) -> Result<Response, AppError> {
    page.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| AppError::Internal(e.into()))
}
