//! Funding and invoices: payers and contracts, a trajectory's funding sources, invoices from
//! draft to paid with credit notes, their PDF and CSV, and the subsidy budget page.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
};
use duurloop_domain::{
    Role,
    funding::{Service, Warning, format_cents},
    referral::FundingRoute,
};
use serde::Deserialize;

use super::{Base, FormErrors, render, show_again};
use crate::{
    app::{
        AppError,
        funding::{
            self, Budget, ContractEndInput, ContractInput, ContractView, GenerateInput,
            InvoiceView, Overview, PayerDetailsInput, PayerInput, TrajectoryFunding,
        },
    },
    clock,
    i18n::Lang,
    state::AppState,
    store::funding::InvoiceRow,
    web::{ctx::PageCtx, form::Pairs, routes::RouteTable},
};

pub fn routes(t: RouteTable) -> RouteTable {
    t.get("/funding", overview)
        .post("/funding/payers", create_payer)
        .post("/funding/payers/{id}", update_payer)
        .post("/funding/payers/{id}/contracts", create_contract)
        .post("/funding/contracts/{id}/end", end_contract)
        .get("/funding/budgets", budgets)
        .post("/trajectories/{id}/funding", set_trajectory)
        .get("/invoices", invoices)
        .post("/invoices", generate)
        .get("/invoices/export.csv", export_csv)
        .get("/invoices/{id}", invoice)
        .post("/invoices/{id}/send", send)
        .post("/invoices/{id}/paid", paid)
        .post("/invoices/{id}/credit", credit)
        .post("/invoices/{id}/delete", delete)
        .get("/invoices/{id}/pdf", pdf)
}

#[derive(Deserialize, Default)]
pub struct OrgQuery {
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// The organisation a funding page opens on: the one asked for, or the reader's first one
/// where they have one of `roles`.
fn org_or_first(page: &PageCtx, org: &str, roles: &[Role]) -> Result<String, AppError> {
    if !org.is_empty() {
        return Ok(org.to_string());
    }
    page.identity
        .as_ref()
        .and_then(|i| {
            i.memberships
                .iter()
                .find(|m| roles.iter().any(|r| r.as_str() == m.role))
        })
        .map(|m| m.org_id.clone())
        .ok_or(AppError::Forbidden)
}

fn money(cents: i64, lang: Lang) -> String {
    format_cents(cents, lang == Lang::En)
}

/// A contract as the pages show it: limits and tariffs in words.
pub struct ContractLine {
    pub id: String,
    pub payer_id: String,
    pub title: String,
    pub validity: String,
    pub limits: String,
    pub tariffs: String,
    /// The earliest end date it can get (`YYYY-MM-DD`): its start, or the last day billed.
    pub min_end: String,
    /// Its current end date, if any (an end can only come earlier).
    pub max_end: String,
}

fn contract_line(k: &ContractView, lang: Lang) -> ContractLine {
    let c = &k.contract;
    let mut limits = Vec::new();
    if let Some(n) = c.max_sessions {
        limits.push(lang.t_args("funding-max-sessions", &[("n", &n.to_string())]));
    }
    if let Some(n) = c.max_weeks {
        limits.push(lang.t_args("funding-max-weeks", &[("n", &n.to_string())]));
    }
    if let Some(b) = c.budget_cents {
        limits.push(lang.t_args("funding-budget-of", &[("amount", &money(b, lang))]));
    }
    ContractLine {
        id: c.id.clone(),
        payer_id: c.payer_id.clone(),
        title: format!("{} — {}", c.payer_name, c.name),
        validity: format!(
            "{} – {}",
            c.valid_from,
            c.valid_to
                .clone()
                .unwrap_or_else(|| lang.t("funding-open-ended"))
        ),
        limits: if limits.is_empty() {
            lang.t("funding-no-limits")
        } else {
            limits.join(", ")
        },
        tariffs: k
            .tariffs
            .iter()
            .map(|(s, cents)| {
                format!(
                    "{} {}",
                    funding::service_label(lang, s),
                    money(*cents, lang)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        min_end: c.valid_from.clone(),
        max_end: c.valid_to.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "funding.html")]
struct FundingPage {
    base: Base,
    overview: Overview,
    contracts: Vec<ContractLine>,
    kinds: Vec<&'static str>,
    services: Vec<&'static str>,
    errors: FormErrors,
    /// The payer whose contract form failed, to open it again.
    failed_payer: String,
    /// The payer whose edit failed, or the contract whose end failed, to open it again.
    failed_edit: String,
    values: HashMap<String, String>,
}

impl FundingPage {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn tariff_value(&self, service: &str) -> String {
        self.value(&format!("c_tariff_{service}"))
    }

    fn kind_selected(&self, kind: &str) -> bool {
        self.values.get("kind").is_some_and(|k| k == kind)
    }

    /// A payer's detail for its edit form: what was typed when that form failed, or else
    /// what is stored.
    fn payer_value(&self, id: &str, name: &str, stored: &str) -> String {
        if self.failed_edit == id {
            self.value(&format!("e_{name}"))
        } else {
            stored.to_string()
        }
    }
}

/// What the funding page opens again after a failed form.
#[derive(Default)]
struct Failed<'a> {
    /// The payer whose new-contract form failed.
    contract_of: &'a str,
    /// The payer whose edit, or the contract whose end, failed.
    edit: &'a str,
}

async fn overview_page(
    state: &AppState,
    page: &PageCtx,
    org: &str,
    errors: FormErrors,
    failed: Failed<'_>,
    values: HashMap<String, String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let overview = funding::overview(state, &actor, org).await?;
    let contracts = (overview.contracts.iter())
        .map(|k| {
            let mut line = contract_line(k, page.lang);
            let billed = (overview.billed_until.iter()).find(|(id, _)| *id == line.id);
            if let Some((_, until)) = billed.filter(|(_, until)| *until > line.min_end) {
                line.min_end.clone_from(until);
            }
            line
        })
        .collect();
    render(FundingPage {
        base: Base::new(page, "funding-title"),
        contracts,
        overview,
        kinds: FundingRoute::ALL.iter().map(|k| k.as_str()).collect(),
        services: Service::ALL.iter().map(|s| s.as_str()).collect(),
        errors,
        failed_payer: failed.contract_of.to_string(),
        failed_edit: failed.edit.to_string(),
        values,
    })
}

async fn overview(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    let org = org_or_first(&page, &q.org, &[Role::Coordinator])?;
    overview_page(
        &state,
        &page,
        &org,
        FormErrors::default(),
        Failed::default(),
        HashMap::new(),
    )
    .await
}

fn values_of(f: &Pairs, names: &[&str]) -> HashMap<String, String> {
    names.iter().map(|n| (n.to_string(), f.get(n))).collect()
}

async fn create_payer(
    State(state): State<AppState>,
    page: PageCtx,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = f.get("org");
    let input = PayerInput {
        kind: f.get("kind"),
        name: f.get("name"),
        funder_org_id: f.get("funder_org_id"),
        reference: f.get("reference"),
        address: f.get("address"),
        email: f.get("email"),
    };
    match funding::create_payer(&state, &actor, &org, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/funding?org={org}")).into_response()),
        Err(e) => {
            let values = values_of(&f, &["kind", "name", "reference", "address", "email"]);
            show_again(page.lang, e, |errors| {
                overview_page(&state, &page, &org, errors, Failed::default(), values)
            })
            .await
        }
    }
}

async fn update_payer(
    State(state): State<AppState>,
    page: PageCtx,
    Path(payer): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = f.get("org");
    let input = PayerDetailsInput {
        name: f.get("name"),
        reference: f.get("reference"),
        address: f.get("address"),
        email: f.get("email"),
    };
    match funding::update_payer(&state, &actor, &payer, &input).await {
        Ok(p) => {
            Ok(Redirect::to(&format!("/funding?org={}#payer-{}", p.org_id, p.id)).into_response())
        }
        Err(e) => {
            let values = ["name", "reference", "address", "email"]
                .iter()
                .map(|n| (format!("e_{n}"), f.get(n)))
                .collect();
            let failed = Failed {
                edit: &payer,
                ..Failed::default()
            };
            show_again(page.lang, e, |errors| {
                overview_page(&state, &page, &org, errors, failed, values)
            })
            .await
        }
    }
}

async fn end_contract(
    State(state): State<AppState>,
    page: PageCtx,
    Path(contract): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = f.get("org");
    let input = ContractEndInput {
        valid_to: f.get("valid_to"),
    };
    match funding::end_contract(&state, &actor, &contract, &input).await {
        Ok(k) => Ok(
            Redirect::to(&format!("/funding?org={}#payer-{}", k.org_id, k.payer_id))
                .into_response(),
        ),
        Err(e) => {
            let values = HashMap::from([("k_valid_to".to_string(), f.get("valid_to"))]);
            let failed = Failed {
                edit: &contract,
                ..Failed::default()
            };
            show_again(page.lang, e, |errors| {
                overview_page(&state, &page, &org, errors, failed, values)
            })
            .await
        }
    }
}

async fn create_contract(
    State(state): State<AppState>,
    page: PageCtx,
    Path(payer): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = f.get("org");
    let input = ContractInput {
        name: f.get("name"),
        valid_from: f.get("valid_from"),
        valid_to: f.get("valid_to"),
        max_sessions: f.get("max_sessions"),
        max_weeks: f.get("max_weeks"),
        budget: f.get("budget"),
        tariffs: Service::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    f.get(&format!("tariff_{}", s.as_str())),
                )
            })
            .collect(),
    };
    match funding::create_contract(&state, &actor, &payer, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/funding?org={org}")).into_response()),
        Err(e) => {
            let mut names = vec![
                "name".to_string(),
                "valid_from".into(),
                "valid_to".into(),
                "max_sessions".into(),
                "max_weeks".into(),
                "budget".into(),
            ];
            names.extend(
                Service::ALL
                    .iter()
                    .map(|s| format!("tariff_{}", s.as_str())),
            );
            let values = names.iter().map(|n| (format!("c_{n}"), f.get(n))).collect();
            let failed = Failed {
                contract_of: &payer,
                ..Failed::default()
            };
            show_again(page.lang, e, |errors| {
                overview_page(&state, &page, &org, errors, failed, values)
            })
            .await
        }
    }
}

/// A budget as the page shows it.
pub struct BudgetLine {
    pub title: String,
    pub budget: String,
    pub invoiced: String,
    pub draft: String,
    pub open: String,
    pub left: String,
    pub percent: u32,
    pub low: bool,
}

fn budget_line(b: &Budget, lang: Lang) -> BudgetLine {
    BudgetLine {
        title: format!("{} — {}", b.payer, b.contract),
        budget: money(b.budget_cents, lang),
        invoiced: money(b.invoiced_cents, lang),
        draft: money(b.draft_cents, lang),
        open: money(b.open_cents, lang),
        left: money(b.left_cents, lang),
        percent: (b.used * 100.0).round().clamp(0.0, 100.0) as u32,
        low: b.left_cents * 10 < b.budget_cents,
    }
}

#[derive(Template)]
#[template(path = "budgets.html")]
struct BudgetPage {
    base: Base,
    org: String,
    budgets: Vec<BudgetLine>,
}

async fn budgets(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = org_or_first(&page, &q.org, &[Role::Coordinator, Role::Funder])?;
    let budgets = funding::budgets(&state, &actor, &org).await?;
    render(BudgetPage {
        base: Base::new(&page, "budget-title"),
        org,
        budgets: budgets.iter().map(|b| budget_line(b, page.lang)).collect(),
    })
}

/// Funding warnings in words, each once; `title` names a contract by its id.
pub fn warning_texts(
    warnings: &[Warning],
    lang: Lang,
    title: impl Fn(&str) -> String,
) -> Vec<String> {
    let mut out: Vec<String> = warnings
        .iter()
        .map(|w| match w {
            Warning::SessionsLeft { contract, left } => lang.t_args(
                "funding-warn-sessions",
                &[("contract", &title(contract)), ("n", &left.to_string())],
            ),
            Warning::WeeksLeft {
                contract,
                days_left,
            } => lang.t_args(
                "funding-warn-weeks",
                &[
                    ("contract", &title(contract)),
                    ("n", &days_left.to_string()),
                ],
            ),
            Warning::ContractEnds {
                contract,
                days_left,
            } => lang.t_args(
                "funding-warn-contract-ends",
                &[
                    ("contract", &title(contract)),
                    ("n", &days_left.to_string()),
                ],
            ),
            Warning::BudgetLow {
                contract,
                left_cents,
            } => lang.t_args(
                "funding-warn-budget",
                &[
                    ("contract", &title(contract)),
                    ("amount", &money(*left_cents, lang)),
                ],
            ),
            Warning::Unfunded { count } => {
                lang.t_args("funding-warn-unfunded", &[("n", &count.to_string())])
            }
        })
        .collect();
    out.dedup();
    out
}

/// The funding card of the trajectory page.
pub struct FundingCard {
    pub sources: Vec<ContractLine>,
    pub usage: Vec<String>,
    pub warnings: Vec<String>,
    /// (contract id, title) to choose from.
    pub options: Vec<(String, String)>,
    /// The chosen contract per position (empty: none), for the selects.
    pub chosen: Vec<String>,
}

pub fn funding_card(f: &TrajectoryFunding, lang: Lang) -> FundingCard {
    let title = |id: &str| {
        f.available
            .iter()
            .find(|k| k.contract.id == id)
            .map(|k| format!("{} — {}", k.contract.payer_name, k.contract.name))
            .unwrap_or_default()
    };
    let warnings = warning_texts(&f.warnings, lang, title);
    let mut chosen: Vec<String> = f.sources.iter().map(|k| k.contract.id.clone()).collect();
    chosen.resize(chosen.len().max(3), String::new());
    chosen.truncate(5);
    FundingCard {
        sources: f.sources.iter().map(|k| contract_line(k, lang)).collect(),
        usage: f
            .usage
            .iter()
            .map(|u| {
                lang.t_args(
                    "funding-usage",
                    &[
                        ("contract", &title(&u.contract)),
                        ("sessions", &u.sessions.to_string()),
                        ("amount", &money(u.cents, lang)),
                    ],
                )
            })
            .collect(),
        warnings,
        options: f
            .available
            .iter()
            .map(|k| (k.contract.id.clone(), title(&k.contract.id)))
            .collect(),
        chosen,
    }
}

async fn set_trajectory(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    match funding::set_for_trajectory(&state, &actor, &id, &f.all("contract")).await {
        Ok(_) => Ok(Redirect::to(&format!("/trajectories/{id}#funding")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                super::trajectories::page(&state, &page, &id, errors)
            })
            .await
        }
    }
}

/// An invoice in a list.
pub struct InvoiceLine {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub payer: String,
    pub period: String,
    pub status: String,
    pub total: String,
    pub credited: bool,
}

fn invoice_line(i: &InvoiceRow, lang: Lang) -> InvoiceLine {
    InvoiceLine {
        id: i.id.clone(),
        number: i
            .number
            .clone()
            .unwrap_or_else(|| lang.t("invoice-no-number")),
        kind: lang.t(&format!("invoice-kind-{}", i.kind)),
        payer: i.payer_name.clone(),
        period: format!("{} – {}", i.period_from, i.period_to),
        status: lang.t(&format!("invoice-status-{}", i.status)),
        total: money(i.total_cents, lang),
        credited: i.credited_by.is_some(),
    }
}

#[derive(Template)]
#[template(path = "invoices.html")]
struct InvoicesPage {
    base: Base,
    org: String,
    org_name: String,
    billing: bool,
    invoices: Vec<InvoiceLine>,
    payers: Vec<(String, String)>,
    errors: FormErrors,
    input: GenerateInput,
}

async fn invoices_page(
    state: &AppState,
    page: &PageCtx,
    org: &str,
    input: GenerateInput,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let list = funding::invoices(state, &actor, org).await?;
    let input = if input.from.is_empty() {
        // A sensible default period: last month.
        let today = clock::local_date(state.now());
        let month_start: jiff::civil::Date = format!("{}-01", &today[..7.min(today.len())])
            .parse()
            .unwrap_or_default();
        let prev = month_start
            .checked_sub(jiff::Span::new().months(1))
            .unwrap_or(month_start);
        let last = month_start.yesterday().unwrap_or(month_start);
        GenerateInput {
            payer_id: input.payer_id,
            from: prev.to_string(),
            to: last.to_string(),
        }
    } else {
        input
    };
    render(InvoicesPage {
        base: Base::new(page, "invoices-title"),
        org: list.org_id.clone(),
        org_name: list.org_name.clone(),
        billing: list.side == "billing",
        invoices: list
            .invoices
            .iter()
            .map(|i| invoice_line(i, page.lang))
            .collect(),
        payers: list
            .payers
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
        errors,
        input,
    })
}

async fn invoices(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    let org = org_or_first(&page, &q.org, &[Role::Coordinator, Role::Funder])?;
    invoices_page(
        &state,
        &page,
        &org,
        GenerateInput::default(),
        FormErrors::default(),
    )
    .await
}

async fn generate(
    State(state): State<AppState>,
    page: PageCtx,
    f: Pairs,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = f.get("org");
    let input = GenerateInput {
        payer_id: f.get("payer_id"),
        from: f.get("from"),
        to: f.get("to"),
    };
    match funding::generate(&state, &actor, &org, &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/invoices/{id}")).into_response()),
        Err(e) => {
            show_again(page.lang, e, |errors| {
                invoices_page(&state, &page, &org, input.clone(), errors)
            })
            .await
        }
    }
}

/// One line of an invoice as the page shows it.
pub struct ShownLine {
    pub date: String,
    pub service: String,
    pub reference: String,
    pub contract: String,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "invoice.html")]
struct InvoicePage {
    base: Base,
    v: InvoiceView,
    head: InvoiceLine,
    lines: Vec<ShownLine>,
    sent_on: String,
    paid_on: String,
    error: String,
}

async fn invoice_page(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    error: String,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let v = funding::view(state, &actor, id).await?;
    let lang = page.lang;
    render(InvoicePage {
        base: Base::new(page, "invoice-page-title"),
        head: invoice_line(&v.invoice, lang),
        lines: v
            .lines
            .iter()
            .map(|l| ShownLine {
                date: l.service_date.clone(),
                service: funding::service_label(lang, &l.service),
                reference: l.reference.clone(),
                contract: l.contract_name.clone(),
                amount: money(l.cents, lang),
            })
            .collect(),
        sent_on: v.invoice.sent_at.map(clock::local_date).unwrap_or_default(),
        paid_on: v.invoice.paid_at.map(clock::local_date).unwrap_or_default(),
        v,
        error,
    })
}

async fn invoice(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    invoice_page(&state, &page, &id, String::new()).await
}

/// Runs a state change of an invoice and shows it again (with the conflict, if any).
async fn change(
    state: &AppState,
    page: &PageCtx,
    id: &str,
    r: Result<Option<String>, AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(Some(other)) => Ok(Redirect::to(&format!("/invoices/{other}")).into_response()),
        Ok(None) => Ok(Redirect::to(&format!("/invoices/{id}")).into_response()),
        Err(AppError::Conflict(key)) => {
            let mut resp =
                invoice_page(state, page, id, page.lang.t(&format!("error-{key}"))).await?;
            *resp.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn send(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = funding::send(&state, &actor, &id).await.map(|_| None);
    change(&state, &page, &id, r).await
}

async fn paid(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = funding::mark_paid(&state, &actor, &id).await.map(|_| None);
    change(&state, &page, &id, r).await
}

async fn credit(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let r = funding::credit(&state, &actor, &id).await.map(Some);
    change(&state, &page, &id, r).await
}

async fn delete(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = {
        let v = funding::view(&state, &actor, &id).await?;
        v.invoice.org_id
    };
    match funding::delete_draft(&state, &actor, &id).await {
        Ok(()) => Ok(Redirect::to(&format!("/invoices?org={org}")).into_response()),
        Err(e) => change(&state, &page, &id, Err(e)).await,
    }
}

pub(crate) fn pdf_response(id: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"factuur-{id}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn pdf(
    State(state): State<AppState>,
    page: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let bytes = funding::pdf(&state, &actor, &id).await?;
    Ok(pdf_response(&id, bytes))
}

pub(crate) fn csv_response(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"duurloop-facturen.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

async fn export_csv(
    State(state): State<AppState>,
    page: PageCtx,
    Query(q): Query<OrgQuery>,
) -> Result<Response, AppError> {
    let actor = page.actor()?;
    let org = org_or_first(&page, &q.org, &[Role::Coordinator, Role::Funder])?;
    let body = funding::csv(&state, &actor, &org, &q.from, &q.to).await?;
    Ok(csv_response(body))
}
