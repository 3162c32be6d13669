//! Questionnaire pages: answering by link or in the portal (phone first, one fieldset per
//! question), the therapist's scores and alerts, an organisation's own questionnaires and an
//! offering's measurement schedule.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::measure::Instrument;

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        measure::{self, Access, AnswersInput, Form, MeasureSettings, QuestionnaireInput},
    },
    i18n::Lang,
    state::AppState,
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/vragenlijst/{token}", link_form)
        .post("/vragenlijst/{token}", link_save)
        .get("/portal/vragenlijsten/{id}", portal_form)
        .post("/portal/vragenlijsten/{id}", portal_save)
        .post("/alerts/{id}/acknowledge", acknowledge)
        .get("/organisations/{id}/questionnaires", catalogue)
        .post("/organisations/{id}/questionnaires", create_questionnaire)
        .post("/questionnaires/{code}/active", set_active)
        .get("/offerings/{id}/measurement", settings_form)
        .post("/offerings/{id}/measurement", save_settings)
}

/// One answer option as the page shows it.
pub struct OptionView {
    pub value: i64,
    pub text: String,
    pub checked: bool,
}

pub struct ItemView {
    /// The form field: `instrument.item`.
    pub name: String,
    pub number: usize,
    pub text: String,
    pub missing: bool,
    pub options: Vec<OptionView>,
}

pub struct PartView {
    pub title: String,
    pub intro: String,
    pub items: Vec<ItemView>,
}

fn parts(form: &Form, lang: Lang, missing: &[String]) -> Vec<PartView> {
    let code = lang.code();
    form.parts
        .iter()
        .map(|p| PartView {
            title: p.instrument.title.get(code).to_string(),
            intro: p.instrument.intro.get(code).to_string(),
            items: p
                .instrument
                .items
                .iter()
                .enumerate()
                .map(|(n, item)| {
                    let name = format!("{}.{}", p.instrument.code, item.code);
                    ItemView {
                        missing: missing.contains(&name),
                        number: n + 1,
                        text: item.text.get(code).to_string(),
                        options: item
                            .options
                            .iter()
                            .map(|o| OptionView {
                                value: o.value,
                                text: o.text.get(code).to_string(),
                                checked: p.answers.get(&item.code) == Some(&o.value),
                            })
                            .collect(),
                        name,
                    }
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "questionnaire.html")]
struct QuestionnairePage {
    base: Base,
    action: String,
    parts: Vec<PartView>,
    help: Vec<String>,
    saved: bool,
    errors: FormErrors,
}

/// Reads `instrument.item = value` fields; a value that is not a number is refused.
fn answers_from(f: &Pairs) -> Result<AnswersInput, AppError> {
    let mut input = AnswersInput {
        submit: f.get("action") == "submit",
        ..Default::default()
    };
    for (name, value) in &f.0 {
        let Some((code, item)) = name.split_once('.') else {
            continue;
        };
        let value = value
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::invalid("answers", "questionnaire-invalid-answer"))?;
        input
            .answers
            .entry(code.to_string())
            .or_default()
            .insert(item.to_string(), value);
    }
    Ok(input)
}

async fn show_form(
    state: &AppState,
    page: &PageCtx,
    access: Access<'_>,
    action: String,
    saved: bool,
    mark_missing: bool,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let form = measure::form(state, access, &page.ctx).await?;
    let missing: Vec<String> = if mark_missing {
        form.parts
            .iter()
            .flat_map(|p| {
                p.instrument
                    .items
                    .iter()
                    .filter(|i| !p.answers.contains_key(&i.code))
                    .map(|i| format!("{}.{}", p.instrument.code, i.code))
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        Vec::new()
    };
    let lang = page.lang.code();
    let mut help: Vec<String> = form.help.iter().map(|t| t.get(lang).to_string()).collect();
    help.dedup();
    render(QuestionnairePage {
        base: Base::new(page, "questionnaire-title"),
        action,
        parts: parts(&form, page.lang, &missing),
        help,
        saved,
        errors,
    })
}

#[derive(Template)]
#[template(path = "questionnaire_done.html")]
struct DonePage {
    base: Base,
    help: Vec<String>,
    portal: bool,
}

async fn save_and_show(
    state: &AppState,
    page: &PageCtx,
    access: Access<'_>,
    action: String,
    f: Pairs,
    portal: bool,
) -> Result<Response, AppError> {
    let input = answers_from(&f)?;
    let lang = page.lang.code();
    match measure::save(state, access, &input, lang, &page.ctx).await {
        Ok(saved) if saved.completed => render(DonePage {
            base: Base::new(page, "questionnaire-done-title"),
            help: saved.help,
            portal,
        }),
        Ok(_) => {
            show_form(
                state,
                page,
                access,
                action,
                true,
                false,
                FormErrors::default(),
            )
            .await
        }
        Err(e) => {
            show_again(page.lang, e, |errors| {
                show_form(state, page, access, action, false, true, errors)
            })
            .await
        }
    }
}

async fn link_form(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let action = format!("/vragenlijst/{token}");
    show_form(
        &state,
        &page,
        Access::Link(&token),
        action,
        false,
        false,
        FormErrors::default(),
    )
    .await
}

async fn link_save(
    State(state): State<AppState>,
    page: PageCtx,
    Path(token): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let action = format!("/vragenlijst/{token}");
    save_and_show(&state, &page, Access::Link(&token), action, f, false).await
}

async fn portal_form(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let Some(p) = super::portal::participant(&state, &headers).await? else {
        return Ok(Redirect::to("/portal/login").into_response());
    };
    let action = format!("/portal/vragenlijsten/{id}");
    show_form(
        &state,
        &page,
        Access::Portal(&p, &id),
        action,
        false,
        false,
        FormErrors::default(),
    )
    .await
}

async fn portal_save(
    State(state): State<AppState>,
    page: PageCtx,
    headers: HeaderMap,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let Some(p) = super::portal::participant(&state, &headers).await? else {
        return Ok(Redirect::to("/portal/login").into_response());
    };
    let action = format!("/portal/vragenlijsten/{id}");
    save_and_show(&state, &page, Access::Portal(&p, &id), action, f, true).await
}

async fn acknowledge(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let trajectory = measure::acknowledge(&state, &actor, &id).await?;
    Ok(Redirect::to(&format!("/trajectories/{trajectory}#measurements")).into_response())
}

pub struct OwnView {
    pub code: String,
    pub title: String,
    pub items: usize,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "questionnaires.html")]
struct CataloguePage {
    base: Base,
    org_id: String,
    builtin: Vec<(String, String, String, usize)>,
    own: Vec<OwnView>,
    input: QuestionnaireInput,
    errors: FormErrors,
}

async fn catalogue_page(
    state: &AppState,
    page: &PageCtx,
    org_id: &str,
    input: QuestionnaireInput,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let c = measure::catalogue(state, &actor, org_id).await?;
    let lang = page.lang.code();
    let title = |i: &Instrument| i.title.get(lang).to_string();
    render(CataloguePage {
        base: Base::new(page, "questionnaires-title"),
        org_id: org_id.to_string(),
        builtin: c
            .builtin
            .iter()
            .map(|i| (i.code.clone(), title(i), i.licence.clone(), i.items.len()))
            .collect(),
        own: c
            .own
            .iter()
            .map(|(i, active)| OwnView {
                code: i.code.clone(),
                title: title(i),
                items: i.items.len(),
                active: *active,
            })
            .collect(),
        input,
        errors,
    })
}

async fn catalogue(
    State(state): State<AppState>,
    page: PageCtx,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    catalogue_page(
        &state,
        &page,
        &org,
        QuestionnaireInput::default(),
        FormErrors::default(),
    )
    .await
}

async fn create_questionnaire(
    State(state): State<AppState>,
    page: PageCtx,
    Path(org): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = QuestionnaireInput {
        title: f.get("title"),
        items: f.get("items"),
        scale: f.get("scale"),
        higher_is_better: f.get("higher_is_better"),
        cutoff: f.get("cutoff"),
    };
    match measure::create_questionnaire(&state, &actor, &org, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/organisations/{org}/questionnaires")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                catalogue_page(&state, &page, &org, input, errors)
            })
            .await
        }
    }
}

async fn set_active(
    State(state): State<AppState>,
    page: PageCtx,
    Path(code): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org =
        measure::set_questionnaire_active(&state, &actor, &code, f.get("active") == "1").await?;
    Ok(Redirect::to(&format!("/organisations/{org}/questionnaires")).into_response())
}

#[derive(Template)]
#[template(path = "measure_settings.html")]
struct SettingsPage {
    base: Base,
    offering_id: String,
    offering_title: String,
    org_id: String,
    settings: MeasureSettings,
    errors: FormErrors,
}

async fn settings_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    shown: Option<MeasureSettings>,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let (o, settings) = measure::offering_settings(state, &actor, id).await?;
    render(SettingsPage {
        base: Base::new(page, "measure-settings-title"),
        offering_id: o.id,
        offering_title: o.title,
        org_id: o.org_id,
        settings: shown.unwrap_or(settings),
        errors,
    })
}

async fn settings_form(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    settings_page(&state, &page, &id, None, FormErrors::default()).await
}

async fn save_settings(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let input = MeasureSettings {
        points: f.get("points"),
        instruments: f.get("instruments"),
    };
    match measure::set_offering_settings(&state, &actor, &id, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/offerings/{id}/measurement")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                settings_page(&state, &page, &id, Some(input), errors)
            })
            .await
        }
    }
}
