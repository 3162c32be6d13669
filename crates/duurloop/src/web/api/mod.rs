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
pub mod research;
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
        accounts::sessions,
        accounts::end_session,
        accounts::tokens,
        accounts::revoke_token,
        accounts::outbox,
        accounts::audit,
        accounts::audit_integrity,
        orgs::list,
        orgs::create,
        orgs::members,
        orgs::invite,
        orgs::share_referrals,
        orgs::set_role,
        orgs::remove,
        directory::register,
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
        referrals::erase,
        referrals::set_research_objection,
        trajectories::show,
        trajectories::edit_week,
        trajectories::change_status,
        trajectories::messages,
        trajectories::send_message,
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
        portal::export,
        portal::set_language,
        portal::research_objection,
        portal::set_research_objection,
        portal::messages,
        portal::send_message,
        measure::link_form,
        measure::link_save,
        measure::portal_form,
        measure::portal_save,
        measure::results,
        measure::alerts,
        measure::acknowledge,
        measure::catalogue,
        measure::create_questionnaire,
        measure::set_active,
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
        research::export,
        funding::payers,
        funding::create_payer,
        funding::update_payer,
        funding::create_contract,
        funding::end_contract,
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
    modifiers(&BearerAuth, &FrameworkErrors),
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

/// The answers every operation can give before or around its handler, added to each
/// operation the document describes (unless its annotation already lists that status), so the
/// document lists every status the server sends; each has the JSON error body (the
/// `render_errors` middleware gives the framework's own rejections that shape too):
///
/// - 401 for an operation that needs a token: none, unknown, revoked or expired;
/// - 403 `read-only-token` for an operation with a personal token that is not a GET: the
///   token's scope is `read` (a 403 the annotation lists already says so too);
/// - 400, 415 and 422 for an operation with a JSON body: not JSON, not sent as
///   `application/json`, or not the documented shape (a field missing or of the wrong type);
///   an upload (multipart) body that cannot be read is a 400;
/// - 400 for an operation with query parameters: one that does not deserialize (given twice);
/// - 404 for an operation with path parameters: no such record, or none the caller may see
///   (and 400 when a typed path parameter, such as a week number, does not parse).
///
/// Error answers an annotation lists without a description get the usual one for their status.
struct FrameworkErrors;

impl Modify for FrameworkErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, path::ParameterIn};
        for (route, item) in openapi.paths.paths.iter_mut() {
            // The participant portal's routes take a portal session, not a personal token.
            let personal = !route.starts_with("/api/v1/portal");
            let operations = [
                (false, &mut item.get),
                (true, &mut item.put),
                (true, &mut item.post),
                (true, &mut item.delete),
                (true, &mut item.patch),
            ];
            for (writes, op) in operations {
                let Some(op) = op else { continue };
                let params = op.parameters.as_deref().unwrap_or_default();
                let query = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let path = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let typed_path = params.iter().any(|p| {
                    matches!(p.parameter_in, ParameterIn::Path)
                        && !is_string_schema(p.schema.as_ref())
                });
                let json_body = op
                    .request_body
                    .as_ref()
                    .map(|b| b.content.keys().any(|k| k.starts_with("application/json")));
                let mut add: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
                let mut say = |status, what| add.entry(status).or_default().push(what);
                if needs_token(op) {
                    say("401", "No valid token.");
                }
                match json_body {
                    Some(true) => {
                        say("400", "The body is not valid JSON.");
                        say("415", "The body is not sent as `application/json`.");
                        say(
                            "422",
                            "The body does not have the documented shape (a field missing or of the wrong type), or a value is invalid: `error.fields` says which.",
                        );
                    }
                    Some(false) => say("400", "The body cannot be read."),
                    None => {}
                }
                if query {
                    say(
                        "400",
                        "A query parameter cannot be read (given twice, or of the wrong type).",
                    );
                }
                if path {
                    say("404", "No such record, or none you may see.");
                }
                if typed_path {
                    say("400", "A path parameter has a value of the wrong type.");
                }
                for (status, what) in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error_response(&what.join(" ")));
                }
                if writes && personal && needs_token(op) {
                    let forbidden = op
                        .responses
                        .responses
                        .entry("403".to_string())
                        .or_insert_with(|| error_response(""));
                    if let RefOr::T(r) = forbidden {
                        let before = match r.description.as_str() {
                            "" => usual_description("403").unwrap_or_default(),
                            d => d,
                        };
                        r.description = format!("{before} {READ_ONLY}");
                    }
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let RefOr::T(r) = response
                        && r.description.is_empty()
                        && let Some(usual) = usual_description(status)
                    {
                        r.description = usual.to_string();
                    }
                }
            }
        }
    }
}

/// What the 403 of every operation that writes with a personal token says too.
const READ_ONLY: &str =
    "`read-only-token`: the token may only read (GET); writing needs a `read-write` token.";

fn usual_description(status: &str) -> Option<&'static str> {
    Some(match status {
        "400" => "The request cannot be read.",
        "401" => "No valid token.",
        "403" => "Not allowed for you.",
        "404" => "No such record, or none you may see.",
        "409" => "Not possible in the record's current state.",
        "413" => "The body is too large.",
        "422" => "A value is invalid: `error.fields` says which and why.",
        _ => return None,
    })
}

/// Whether an operation needs the bearer token: the document's global requirement applies
/// unless the operation sets its own, and `security(())` (an empty requirement) makes it public.
fn needs_token(op: &utoipa::openapi::path::Operation) -> bool {
    match &op.security {
        None => true,
        Some(reqs) => !reqs.iter().any(|r| {
            serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
        }),
    }
}

fn is_string_schema(
    schema: Option<&utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
) -> bool {
    use utoipa::openapi::{
        RefOr, Type,
        schema::{Schema, SchemaType},
    };
    match schema {
        Some(RefOr::T(Schema::Object(o))) => {
            matches!(o.schema_type, SchemaType::Type(Type::String))
        }
        _ => false,
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// `{ "id": … }`: what was made.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct IdOut {
    pub id: String,
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
    let t = research::routes(t);
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
