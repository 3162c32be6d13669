//! The JSON API under `/api/v1`, authenticated with personal API tokens
//! (`Authorization: Bearer dl_…`), described by the OpenAPI document at `/api/openapi.json`
//! with a browsable view at `/api/docs`. Errors: `{ "error": { "code", "message", "fields" } }`.

pub mod accounts;
pub mod directory;
pub mod feedback;
pub mod funding;
pub mod groups;
pub mod measure;
pub mod orgs;
pub mod portal;
pub mod referrals;
pub mod trajectories;

use axum::{Json, Router};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::routes::RouteTable;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Duurloop API", description = "Running therapy on prescription. Authenticate with a personal API token from your account page: `Authorization: Bearer dl_…`. Errors have the body `{\"error\": {\"code\", \"message\", \"fields\"}}`."),
    paths(
        accounts::me,
        accounts::tokens,
        accounts::revoke_token,
        accounts::outbox,
        accounts::audit,
        orgs::list,
        orgs::create,
        orgs::members,
        orgs::invite,
        orgs::set_role,
        orgs::remove,
        directory::search,
        directory::offering,
        directory::org_directory,
        directory::create_offering,
        directory::update_offering,
        directory::set_listing,
        directory::create_therapist,
        directory::update_therapist,
        directory::create_location,
        directory::update_location,
        referrals::list,
        referrals::create,
        referrals::self_register,
        referrals::show,
        referrals::invite,
        referrals::plan_intake,
        referrals::intake,
        referrals::clearance,
        referrals::decision,
        referrals::reassign,
        trajectories::show,
        trajectories::edit_week,
        trajectories::change_status,
        groups::group,
        groups::add_slot,
        groups::session,
        groups::attendance,
        groups::cancel,
        groups::new_calendar_feed,
        portal::request_link,
        portal::open_session,
        portal::close_session,
        portal::home,
        portal::log_run,
        portal::upload_run,
        portal::new_calendar_feed,
        measure::link_form,
        measure::link_save,
        measure::portal_form,
        measure::portal_save,
        measure::results,
        measure::alerts,
        measure::acknowledge,
        measure::catalogue,
        measure::create_questionnaire,
        measure::instrument,
        measure::settings,
        measure::set_settings,
        feedback::open,
        feedback::show,
        feedback::update,
        feedback::send,
        feedback::pdf,
        feedback::fhir,
        feedback::impact,
        funding::payers,
        funding::create_payer,
        funding::create_contract,
        funding::trajectory_funding,
        funding::set_trajectory_funding,
        funding::invoices,
        funding::generate,
        funding::invoice,
        funding::delete,
        funding::send,
        funding::paid,
        funding::credit,
        funding::pdf,
        funding::export_csv,
        funding::budgets,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("dl_…")
                    .build(),
            ),
        );
    }
}

/// The API's error body, for the OpenAPI document.
#[derive(utoipa::ToSchema, serde::Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(utoipa::ToSchema, serde::Serialize)]
pub struct ErrorDetail {
    /// A stable code, e.g. `invalid`, `forbidden`, `not-found`.
    pub code: String,
    /// A message in the caller's language (`Accept-Language`).
    pub message: String,
    /// Per field, what is wrong with it.
    pub fields: std::collections::HashMap<String, String>,
}

pub fn routes(t: RouteTable) -> RouteTable {
    let t = t
        .get("/api/openapi.json", openapi_json)
        .note("GET", "/api/docs")
        .note("GET", "/api/docs/{*rest}");
    let t = accounts::routes(t);
    let t = directory::routes(t);
    let t = referrals::routes(t);
    let t = trajectories::routes(t);
    let t = groups::routes(t);
    let t = portal::routes(t);
    let t = measure::routes(t);
    let t = feedback::routes(t);
    let t = funding::routes(t);
    orgs::routes(t)
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The browsable view of the OpenAPI document (Swagger UI, vendored into the binary).
pub fn docs_router() -> Router<AppState> {
    Router::from(SwaggerUi::new("/api/docs").config(Config::from("/api/openapi.json")))
}
