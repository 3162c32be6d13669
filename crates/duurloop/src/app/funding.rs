//! Paying for it (SPEC C9): a coordinator records payers (whose details can be edited later;
//! sent invoices keep theirs) and their contracts (tariffs per service, limits, budgets; never
//! changed, but they can be ended); a trajectory gets its funding sources in order; invoices per
//! payer and period are made from what was recorded (intakes, attended sessions), never from
//! plans; they go draft → sent → paid, a credit note cancels a sent one, numbers have no gaps.
//! Funders see the invoices addressed to them and their budgets, with pseudonymous references
//! only. The rules (which source pays which event) are `duurloop_domain::funding`.

use std::collections::{HashMap, HashSet};

use duurloop_domain::{
    Role,
    attendance::Date,
    funding::{self, Assignment, Contract, Event as Billable, EventKind, Funding, Limits, Service},
    referral::FundingRoute,
};
use serde::{Deserialize, Serialize};

use super::{
    Actor, AppError, AppResult,
    audit::{Event, record},
};
use crate::{
    clock, mail,
    state::AppState,
    store::{
        self, Conn,
        funding::{
            ContractRow, InvoiceRow, LineRow, NewContract, NewInvoice, NewLine, NewPayer, PayerRow,
        },
    },
};

/// Funding sources per trajectory at most: more is a mistake, not a plan.
const MAX_SOURCES: usize = 5;

fn require_coordinator(actor: &Actor, org_id: &str) -> AppResult<()> {
    if actor.identity.role_in(org_id) == Some(Role::Coordinator) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// `YYYY-MM-DD` as a domain date.
pub fn parse_date(s: &str) -> Option<Date> {
    let d: jiff::civil::Date = s.trim().parse().ok()?;
    Some((i32::from(d.year()), d.month() as u8, d.day() as u8))
}

pub fn format_date((y, m, d): Date) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// The participant's reference on invoices: no name, but the practice can trace it.
pub fn reference(trajectory_id: &str) -> String {
    let tail: String = trajectory_id
        .chars()
        .rev()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("DL-{}", tail.to_uppercase())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PayerInput {
    /// insurer, gp_module, subsidy, employer, uwv, municipality or self_pay
    pub kind: String,
    pub name: String,
    /// The payer's organisation here (optional): its people then see its invoices.
    #[serde(default)]
    pub funder_org_id: String,
    /// Debtor number, UZOVI code, subsidy file number…
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub address: String,
    /// Where sent invoices are mailed (optional).
    #[serde(default)]
    pub email: String,
}

/// A payer's details that can be changed after it was recorded (not its kind, nor the
/// organisation it stands for: those decide what it pays and who sees its invoices).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PayerDetailsInput {
    pub name: String,
    /// Debtor number, UZOVI or AGB code, subsidy file number…
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub address: String,
    /// Where sent invoices are mailed (optional).
    #[serde(default)]
    pub email: String,
}

/// Checks a payer's name, reference, address and e-mail (on creation and on edits alike) and
/// gives them trimmed.
fn check_details<'a>(
    name: &'a str,
    reference: &'a str,
    address: &'a str,
    email: &'a str,
) -> AppResult<store::funding::PayerDetails<'a>> {
    let details = store::funding::PayerDetails {
        name: name.trim(),
        reference: reference.trim(),
        address: address.trim(),
        email: email.trim(),
    };
    let mut errors = Vec::new();
    if details.name.is_empty() || details.name.chars().count() > 200 {
        errors.push(super::FieldError {
            field: "name",
            key: "invalid-name",
        });
    }
    if !details.email.is_empty() && duurloop_domain::EmailAddress::parse(details.email).is_err() {
        errors.push(super::FieldError {
            field: "email",
            key: "invalid-email",
        });
    }
    for (field, text) in [("reference", reference), ("address", address)] {
        if text.chars().count() > 500 {
            errors.push(super::FieldError {
                field,
                key: "text-too-long",
            });
        }
    }
    if errors.is_empty() {
        Ok(details)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Records a payer of a billing organisation (its coordinator).
pub async fn create_payer(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    input: &PayerInput,
) -> AppResult<String> {
    require_coordinator(actor, org_id)?;
    let kind = FundingRoute::parse(input.kind.trim()).map_err(|e| AppError::field("kind", e))?;
    let details = check_details(&input.name, &input.reference, &input.address, &input.email)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let funder = input.funder_org_id.trim();
    let funder = if funder.is_empty() {
        None
    } else {
        store::orgs::by_id(&mut tx, funder)
            .await?
            .ok_or(AppError::invalid("funder_org_id", "invalid-org"))?;
        Some(funder)
    };
    let id = store::funding::insert_payer(
        &mut tx,
        &NewPayer {
            org_id,
            kind: kind.as_str(),
            name: details.name,
            funder_org_id: funder,
            reference: details.reference,
            address: details.address,
            email: details.email,
        },
        now,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "payer").record(&id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a payer's name, reference, address and e-mail (the billing organisation's
/// coordinator), validated as on creation. Invoices already sent keep the name, reference and
/// address they were sent with; drafts and later invoices get the new ones.
pub async fn update_payer(
    state: &AppState,
    actor: &Actor,
    payer_id: &str,
    input: &PayerDetailsInput,
) -> AppResult<PayerRow> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let payer = store::funding::payer(&mut tx, payer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_coordinator(actor, &payer.org_id)?;
    let details = check_details(&input.name, &input.reference, &input.address, &input.email)?;
    if !store::funding::update_payer(&mut tx, &payer.id, &details).await? {
        return Err(AppError::NotFound);
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "payer")
            .record(&payer.id)
            .org(&payer.org_id),
    )
    .await?;
    let payer = store::funding::payer(&mut tx, &payer.id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(payer)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContractInput {
    pub name: String,
    /// `YYYY-MM-DD`
    pub valid_from: String,
    /// `YYYY-MM-DD`, empty for open-ended (inclusive)
    #[serde(default)]
    pub valid_to: String,
    /// Sessions per trajectory at most (empty: no limit).
    #[serde(default)]
    pub max_sessions: String,
    /// Weeks from the trajectory's start at most (empty: no limit).
    #[serde(default)]
    pub max_weeks: String,
    /// Budget over all trajectories in euros (empty: none).
    #[serde(default)]
    pub budget: String,
    /// Tariffs in euros per service (intake, group_session, individual_session, module_fee,
    /// trial_session); a service left out or empty is not covered.
    #[serde(default)]
    pub tariffs: HashMap<String, String>,
}

fn optional_count(field: &'static str, s: &str, max: i64) -> AppResult<Option<i64>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(AppError::invalid(field, "invalid-number")),
    }
}

/// Adds a contract to a payer (the billing organisation's coordinator). Contracts are never
/// edited: what was invoiced under one keeps its meaning; next year's tariffs are a new one.
pub async fn create_contract(
    state: &AppState,
    actor: &Actor,
    payer_id: &str,
    input: &ContractInput,
) -> AppResult<String> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let payer = store::funding::payer(&mut tx, payer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_coordinator(actor, &payer.org_id)?;
    let mut errors = Vec::new();
    let mut push = |field: &'static str, key: &'static str| {
        errors.push(super::FieldError { field, key });
    };
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        push("name", "invalid-name");
    }
    let from = parse_date(&input.valid_from);
    if from.is_none() {
        push("valid_from", "invalid-date");
    }
    let to = if input.valid_to.trim().is_empty() {
        None
    } else {
        match parse_date(&input.valid_to) {
            Some(to) if from.is_none_or(|f| f <= to) => Some(to),
            _ => {
                push("valid_to", "invalid-date");
                None
            }
        }
    };
    let max_sessions = optional_count("max_sessions", &input.max_sessions, 1000);
    let max_weeks = optional_count("max_weeks", &input.max_weeks, 520);
    let budget = if input.budget.trim().is_empty() {
        Ok(None)
    } else {
        funding::parse_cents(&input.budget).map(Some)
    };
    let mut tariffs = Vec::new();
    for (service, amount) in &input.tariffs {
        if amount.trim().is_empty() {
            continue;
        }
        match (Service::parse(service), funding::parse_cents(amount)) {
            (Ok(s), Ok(cents)) => tariffs.push((s.as_str(), cents)),
            (Err(_), _) => push("tariffs", "invalid-service"),
            (_, Err(_)) => push("tariffs", "invalid-amount"),
        }
    }
    tariffs.sort();
    if tariffs.is_empty() {
        push("tariffs", "tariff-required");
    }
    let (max_sessions, max_weeks, budget) = match (max_sessions, max_weeks, budget) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (a, b, c) => {
            if a.is_err() {
                push("max_sessions", "invalid-number");
            }
            if b.is_err() {
                push("max_weeks", "invalid-number");
            }
            if c.is_err() {
                push("budget", "invalid-amount");
            }
            (None, None, None)
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let from = format_date(from.expect("checked"));
    let to = to.map(format_date);
    let id = store::funding::insert_contract(
        &mut tx,
        &NewContract {
            payer_id,
            name,
            valid_from: &from,
            valid_to: to.as_deref(),
            max_sessions,
            max_weeks,
            budget_cents: budget,
            tariffs: &tariffs,
        },
        now,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "contract")
            .record(&id)
            .org(&payer.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContractEndInput {
    /// `YYYY-MM-DD`, the last day the contract pays for (inclusive): not before its start, not
    /// after its current end, not before the last day already billed under it.
    pub valid_to: String,
}

/// Ends a contract: gives it an end date, or an earlier one (the billing organisation's
/// coordinator). Its tariffs and limits stay as they are, and so does everything billed under
/// it: the end may not come before the last day on an invoice (or draft) under it. Recorded
/// events after the end go to the trajectory's next source, or are unfunded.
pub async fn end_contract(
    state: &AppState,
    actor: &Actor,
    contract_id: &str,
    input: &ContractEndInput,
) -> AppResult<ContractRow> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let contract = store::funding::contract(&mut tx, contract_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_coordinator(actor, &contract.org_id)?;
    let to = parse_date(&input.valid_to).ok_or(AppError::invalid("valid_to", "invalid-date"))?;
    if parse_date(&contract.valid_from).is_some_and(|from| to < from) {
        return Err(AppError::invalid("valid_to", "contract-end-before-start"));
    }
    if (contract.valid_to.as_deref().and_then(parse_date)).is_some_and(|end| to > end) {
        return Err(AppError::invalid("valid_to", "contract-end-later"));
    }
    let to = format_date(to);
    if !store::funding::end_contract(&mut tx, &contract.id, &to).await? {
        return Err(AppError::invalid("valid_to", "contract-end-before-billed"));
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "contract")
            .record(&contract.id)
            .org(&contract.org_id),
    )
    .await?;
    let contract = store::funding::contract(&mut tx, &contract.id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(contract)
}

/// A contract with its tariffs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContractView {
    #[serde(flatten)]
    pub contract: ContractRow,
    /// (service, cents)
    pub tariffs: Vec<(String, i64)>,
}

/// A billing organisation's payers and contracts, for its coordinator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub org_id: String,
    pub org_name: String,
    pub payers: Vec<PayerRow>,
    pub contracts: Vec<ContractView>,
    /// Insurers, municipalities and employers here, to link a payer to.
    pub funder_orgs: Vec<(String, String)>,
    /// (contract id, `YYYY-MM-DD`): the last day billed under a contract (a draft or an invoice
    /// not credited); a contract cannot end before it.
    pub billed_until: Vec<(String, String)>,
}

async fn contract_views(c: &mut Conn, org_id: &str) -> AppResult<Vec<ContractView>> {
    let contracts = store::funding::contracts_of(c, org_id).await?;
    let tariffs = store::funding::tariffs_of(c, org_id).await?;
    Ok(contracts
        .into_iter()
        .map(|k| ContractView {
            tariffs: tariffs
                .iter()
                .filter(|(id, ..)| *id == k.id)
                .map(|(_, s, cents)| (s.clone(), *cents))
                .collect(),
            contract: k,
        })
        .collect())
}

pub async fn overview(state: &AppState, actor: &Actor, org_id: &str) -> AppResult<Overview> {
    require_coordinator(actor, org_id)?;
    let mut c = state.db.conn().await?;
    let org = store::orgs::by_id(&mut c, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let payers = store::funding::payers_of(&mut c, org_id).await?;
    let contracts = contract_views(&mut c, org_id).await?;
    let funder_orgs = store::orgs::all(&mut c)
        .await?
        .into_iter()
        .filter(|o| matches!(o.kind.as_str(), "insurer" | "municipality" | "employer"))
        .map(|o| (o.id, o.name))
        .collect();
    let billed_until = store::funding::billed_until(&mut c, org_id).await?;
    Ok(Overview {
        org_id: org.id,
        org_name: org.name,
        payers,
        contracts,
        funder_orgs,
        billed_until,
    })
}

/// Everything the rules need for one billing organisation, and what they make of it.
struct Books {
    contracts: Vec<ContractView>,
    fundings: Vec<Funding>,
    assignment: Assignment,
    /// Event keys already on an invoice.
    billed: HashSet<String>,
}

fn to_domain(k: &ContractView) -> Contract {
    Contract {
        id: k.contract.id.clone(),
        limits: Limits {
            valid_from: parse_date(&k.contract.valid_from).unwrap_or((1970, 1, 1)),
            valid_to: k.contract.valid_to.as_deref().and_then(parse_date),
            max_sessions: k
                .contract
                .max_sessions
                .map(|n| n.clamp(0, u32::MAX.into()) as u32),
            max_weeks: k
                .contract
                .max_weeks
                .map(|n| n.clamp(0, u32::MAX.into()) as u32),
            budget_cents: k.contract.budget_cents,
        },
        tariffs: k
            .tariffs
            .iter()
            .filter_map(|(s, cents)| Service::parse(s).ok().map(|s| (s, *cents)))
            .collect(),
    }
}

/// What a recorded session of an offering of this kind is billed as.
fn session_kind(offering_kind: &str) -> EventKind {
    match offering_kind {
        "running_individual" => EventKind::IndividualSession,
        _ => EventKind::GroupSession,
    }
}

/// Reads the organisation's contracts, fundings and recorded events and assigns every event
/// to the source that pays it. One pass over the whole organisation, so a shared budget is
/// used up in one order for everyone (the invoice, the budget page, the warnings agree).
async fn books(c: &mut Conn, org_id: &str) -> AppResult<Books> {
    books_with(c, org_id, Vec::new()).await
}

/// [`books`], with `extra` events counted as if they were recorded: what recording them
/// would do.
async fn books_with(c: &mut Conn, org_id: &str, extra: Vec<Billable>) -> AppResult<Books> {
    let contracts = contract_views(c, org_id).await?;
    let mut fundings: Vec<Funding> = Vec::new();
    for (trajectory, start, contract) in store::funding::fundings_of(c, org_id).await? {
        match fundings.last_mut() {
            Some(f) if f.trajectory == trajectory => f.sources.push(contract),
            _ => fundings.push(Funding {
                trajectory,
                start: parse_date(&start),
                sources: vec![contract],
            }),
        }
    }
    let mut events: Vec<Billable> = store::funding::events_of(c, org_id)
        .await?
        .into_iter()
        .filter_map(|e| {
            let day = match e.recorded_at {
                Some(ms) => clock::local_date(ms),
                None => e.day.clone(),
            };
            Some(Billable {
                key: e.key,
                trajectory: e.trajectory_id,
                date: parse_date(&day)?,
                kind: match e.kind.as_str() {
                    "intake" => EventKind::Intake,
                    other => session_kind(other),
                },
            })
        })
        .collect();
    events.extend(extra);
    let domain: Vec<Contract> = contracts.iter().map(to_domain).collect();
    let assignment = funding::assign(&domain, &fundings, &events);
    let billed = store::funding::billed_keys(c, org_id)
        .await?
        .into_iter()
        .collect();
    Ok(Books {
        contracts,
        fundings,
        assignment,
        billed,
    })
}

/// A trajectory's funding: its sources in order, what each has paid for so far, warnings
/// before a limit is passed, and the contracts it could use.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrajectoryFunding {
    pub sources: Vec<ContractView>,
    #[schema(value_type = Vec<Object>)]
    pub usage: Vec<funding::Usage>,
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<funding::Warning>,
    /// Recorded events no source pays for.
    pub unfunded: usize,
    /// The billing organisation's contracts, to choose from.
    pub available: Vec<ContractView>,
}

fn trajectory_funding_of(books: &Books, trajectory_id: &str, today: Date) -> TrajectoryFunding {
    let funding = books
        .fundings
        .iter()
        .find(|f| f.trajectory == trajectory_id)
        .cloned()
        .unwrap_or(Funding {
            trajectory: trajectory_id.to_string(),
            start: None,
            sources: Vec::new(),
        });
    let domain: Vec<Contract> = books.contracts.iter().map(to_domain).collect();
    let warnings = funding::warnings(&domain, &funding, &books.assignment, today);
    TrajectoryFunding {
        sources: funding
            .sources
            .iter()
            .filter_map(|id| {
                books
                    .contracts
                    .iter()
                    .find(|k| k.contract.id == *id)
                    .cloned()
            })
            .collect(),
        usage: books
            .assignment
            .usage
            .iter()
            .filter(|u| u.trajectory == trajectory_id)
            .cloned()
            .collect(),
        warnings,
        unfunded: books
            .assignment
            .unfunded
            .iter()
            .filter(|u| u.trajectory == trajectory_id)
            .count(),
        available: books.contracts.clone(),
    }
}

fn today(state: &AppState) -> Date {
    parse_date(&clock::local_date(state.now())).unwrap_or((1970, 1, 1))
}

/// A trajectory's funding, for its team (audit-logged).
pub async fn of_trajectory(
    state: &AppState,
    actor: &Actor,
    trajectory_id: &str,
) -> AppResult<TrajectoryFunding> {
    let now = state.now();
    let attempt = Event::new("read", "trajectory_funding");
    let (mut tx, t, _) = super::trajectories::open(state, actor, trajectory_id, attempt).await?;
    let books = books(&mut tx, &t.org_id).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "trajectory_funding")
            .record(&t.id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(trajectory_funding_of(&books, &t.id, today(state)))
}

/// One participant of a group session: their funding as it stands once this session is
/// recorded (attendance not recorded yet counts as present), on the session's date.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParticipantFunding {
    pub trajectory_id: String,
    /// Why no source would pay for (or pays for) this session when attended: "limit" (each
    /// source is past its end, weeks, sessions or budget) or "no-tariff"; none when one does,
    /// or the participant is recorded absent.
    pub session_unfunded: Option<String>,
    /// The warnings of the trajectory's funding (as on the trajectory page), with this session
    /// counted, on its date.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<funding::Warning>,
}

/// The funding warnings of a group session's participants.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct SessionFunding {
    /// The participants with funding sources that have something to warn about (participants
    /// without any funding source are left out: they have no limit to pass).
    pub participants: Vec<ParticipantFunding>,
    /// (contract id, "payer — contract") of the contracts the warnings name.
    pub contracts: Vec<(String, String)>,
}

/// The funding warnings of a group session's participants, computed in one pass over the
/// organisation's books with the session counted as attended by everyone whose attendance is
/// not recorded yet (a shared budget sees the whole group), whatever the number of
/// participants.
pub(crate) async fn for_session(
    c: &mut Conn,
    offering: &store::directory::OfferingRow,
    session: &store::groups::SessionRow,
    participants: &[store::groups::ParticipantRow],
) -> AppResult<SessionFunding> {
    let Some(day) = parse_date(&session.session_date) else {
        return Ok(SessionFunding::default());
    };
    if session.cancelled_at.is_some() {
        return Ok(SessionFunding::default());
    }
    // The whole organisation's books are read only when someone here has funding to warn of.
    let funded = store::funding::funded_in_offering(c, &offering.id).await?;
    if !participants
        .iter()
        .any(|p| funded.contains(&p.trajectory_id))
    {
        return Ok(SessionFunding::default());
    }
    let key = |trajectory: &str| format!("session:{}:{trajectory}", session.id);
    let extra = participants
        .iter()
        .filter(|p| p.status.is_none())
        .map(|p| Billable {
            key: key(&p.trajectory_id),
            trajectory: p.trajectory_id.clone(),
            date: day,
            kind: session_kind(&offering.kind),
        })
        .collect();
    let books = books_with(c, &offering.org_id, extra).await?;
    let domain: Vec<Contract> = books.contracts.iter().map(to_domain).collect();
    let mut out = SessionFunding::default();
    for p in participants {
        let Some(f) = (books.fundings.iter())
            .find(|f| f.trajectory == p.trajectory_id && !f.sources.is_empty())
        else {
            continue;
        };
        let key = key(&p.trajectory_id);
        let session_unfunded = (books.assignment.unfunded.iter())
            .find(|u| u.key == key)
            .map(|u| u.reason.to_string());
        let warnings = funding::warnings(&domain, f, &books.assignment, day);
        if session_unfunded.is_none() && warnings.is_empty() {
            continue;
        }
        out.participants.push(ParticipantFunding {
            trajectory_id: p.trajectory_id.clone(),
            session_unfunded,
            warnings,
        });
    }
    let named: HashSet<&str> = (out.participants.iter())
        .flat_map(|p| p.warnings.iter())
        .filter_map(|w| match w {
            funding::Warning::SessionsLeft { contract, .. }
            | funding::Warning::WeeksLeft { contract, .. }
            | funding::Warning::ContractEnds { contract, .. }
            | funding::Warning::BudgetLow { contract, .. } => Some(contract.as_str()),
            funding::Warning::Unfunded { .. } => None,
        })
        .collect();
    out.contracts = (books.contracts.iter())
        .filter(|k| named.contains(k.contract.id.as_str()))
        .map(|k| {
            let title = format!("{} — {}", k.contract.payer_name, k.contract.name);
            (k.contract.id.clone(), title)
        })
        .collect();
    Ok(out)
}

/// Sets a trajectory's funding sources, in order (its team). Each must be a contract of the
/// trajectory's organisation, each once.
pub async fn set_for_trajectory(
    state: &AppState,
    actor: &Actor,
    trajectory_id: &str,
    contract_ids: &[String],
) -> AppResult<TrajectoryFunding> {
    let now = state.now();
    let attempt = Event::new("update", "trajectory_funding");
    let (mut tx, t, _) = super::trajectories::open(state, actor, trajectory_id, attempt).await?;
    let ids: Vec<String> = contract_ids
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > MAX_SOURCES || ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return Err(AppError::invalid("contracts", "invalid-funding-sources"));
    }
    let contracts = store::funding::contracts_of(&mut tx, &t.org_id).await?;
    if !ids.iter().all(|id| contracts.iter().any(|k| k.id == *id)) {
        return Err(AppError::invalid("contracts", "invalid-funding-sources"));
    }
    store::funding::set_funding(&mut tx, &t.id, &ids).await?;
    let books = books(&mut tx, &t.org_id).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "trajectory_funding")
            .record(&t.id)
            .org(&t.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(trajectory_funding_of(&books, &t.id, today(state)))
}

/// Who is looking at invoices of an organisation: the billing coordinator, or a funder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Billing,
    Funder,
}

fn side(actor: &Actor, org_id: &str) -> AppResult<Side> {
    match actor.identity.role_in(org_id) {
        Some(Role::Coordinator) => Ok(Side::Billing),
        Some(Role::Funder) => Ok(Side::Funder),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceList {
    pub org_id: String,
    pub org_name: String,
    /// billing (the organisation's own invoices) or funder (invoices addressed to it)
    pub side: String,
    pub invoices: Vec<InvoiceRow>,
    /// For the billing side: the payers to invoice.
    pub payers: Vec<PayerRow>,
}

/// The invoices of a billing organisation (its coordinators) or addressed to a funder
/// organisation (its funders, sent ones only).
pub async fn invoices(state: &AppState, actor: &Actor, org_id: &str) -> AppResult<InvoiceList> {
    let side = side(actor, org_id)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let org = store::orgs::by_id(&mut tx, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (invoices, payers) = match side {
        Side::Billing => (
            store::funding::invoices_of(&mut tx, org_id).await?,
            store::funding::payers_of(&mut tx, org_id).await?,
        ),
        Side::Funder => (
            store::funding::invoices_to(&mut tx, org_id).await?,
            Vec::new(),
        ),
    };
    record(
        &mut tx,
        now,
        actor,
        Event::new("search", "invoice").org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(InvoiceList {
        org_id: org.id,
        org_name: org.name,
        side: match side {
            Side::Billing => "billing",
            Side::Funder => "funder",
        }
        .to_string(),
        invoices,
        payers,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct GenerateInput {
    pub payer_id: String,
    /// `YYYY-MM-DD`
    pub from: String,
    /// `YYYY-MM-DD` (inclusive)
    pub to: String,
}

/// Makes a draft invoice to a payer for the period from what was recorded in it and not
/// billed yet. Nothing to bill is an error, not an empty invoice.
pub async fn generate(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    input: &GenerateInput,
) -> AppResult<String> {
    require_coordinator(actor, org_id)?;
    let from = parse_date(&input.from);
    let to = parse_date(&input.to);
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) if f <= t => (f, t),
        (None, _) => return Err(AppError::invalid("from", "invalid-date")),
        _ => return Err(AppError::invalid("to", "invalid-date")),
    };
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let id = draft(
        &mut tx,
        org_id,
        input.payer_id.trim(),
        (from, to),
        &actor.identity.user_id,
        now,
    )
    .await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "invoice").record(&id).org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes the draft invoice of [`generate`] (also used by the demo data).
pub(crate) async fn draft(
    c: &mut Conn,
    org_id: &str,
    payer_id: &str,
    (from, to): (Date, Date),
    created_by: &str,
    now: i64,
) -> AppResult<String> {
    let payer = store::funding::payer(c, payer_id)
        .await?
        .filter(|p| p.org_id == org_id)
        .ok_or(AppError::invalid("payer_id", "invalid-payer"))?;
    let books = books(c, org_id).await?;
    let of_payer: HashSet<&str> = books
        .contracts
        .iter()
        .filter(|k| k.contract.payer_id == payer.id)
        .map(|k| k.contract.id.as_str())
        .collect();
    let picked: Vec<&funding::Line> = books
        .assignment
        .lines
        .iter()
        .filter(|l| {
            of_payer.contains(l.contract.as_str())
                && l.date >= from
                && l.date <= to
                && !books.billed.contains(&l.key)
        })
        .collect();
    if picked.is_empty() {
        return Err(AppError::invalid("period", "nothing-to-invoice"));
    }
    let texts: Vec<(String, String)> = picked
        .iter()
        .map(|l| (format_date(l.date), reference(&l.trajectory)))
        .collect();
    let lines: Vec<NewLine> = picked
        .iter()
        .zip(&texts)
        .map(|(l, (date, reference))| NewLine {
            event_key: &l.key,
            trajectory_id: &l.trajectory,
            contract_id: &l.contract,
            service_date: date,
            service: l.service.as_str(),
            reference,
            cents: l.cents,
        })
        .collect();
    let (from, to) = (format_date(from), format_date(to));
    store::funding::insert_invoice(
        c,
        &NewInvoice {
            org_id,
            payer_id: &payer.id,
            kind: "invoice",
            credits_id: None,
            number: None,
            period_from: &from,
            period_to: &to,
            status: "draft",
            created_by,
            sent_at: None,
        },
        &lines,
        true,
        now,
    )
    .await?
    .ok_or(AppError::Conflict("already-invoiced"))
}

/// An invoice with its lines, as its reader may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceView {
    pub invoice: InvoiceRow,
    pub lines: Vec<LineRow>,
    /// The payer, with the name, reference and address the invoice was sent with (a draft:
    /// the current ones); the e-mail address is the current one.
    pub payer: PayerRow,
    pub org_name: String,
    /// The billing coordinator may send, mark paid, credit or delete it.
    pub manage: bool,
}

/// Loads an invoice for the billing coordinator (everything) or the payer's funder (sent and
/// paid only); anyone else gets not found.
/// Begins the transaction of an action on an invoice: the invoice, its payer as the invoice
/// addresses it (a sent one as it was sent, a draft as the payer is now), and whether this
/// person manages it (a coordinator of its organisation) rather than only reads it (a funder
/// of its payer, sent invoices only). Anyone else gets 404, as if there were no such invoice,
/// and a funder trying an action that needs `manage` gets 403; both refusals are audit-logged
/// (ASVS 7.2.2) as `attempt` with outcome `denied`, the invoice and its organisation,
/// committed before the answer. Every action on one invoice starts here.
async fn open_invoice<'a>(
    state: &AppState,
    actor: &Actor,
    id: &'a str,
    attempt: Event<'a>,
    must_manage: bool,
) -> AppResult<(crate::db::Tx, InvoiceRow, PayerRow, bool)> {
    let mut tx = state.db.begin().await?;
    let invoice = store::funding::invoice(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut payer = store::funding::payer(&mut tx, &invoice.payer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    payer.name.clone_from(&invoice.payer_name);
    payer.reference.clone_from(&invoice.payer_reference);
    payer.address.clone_from(&invoice.payer_address);
    let manage = actor.identity.role_in(&invoice.org_id) == Some(Role::Coordinator);
    let funder = payer
        .funder_org_id
        .as_deref()
        .is_some_and(|f| actor.identity.role_in(f) == Some(Role::Funder));
    let reads = manage || (funder && invoice.status != "draft");
    let refusal = if !reads {
        Some(AppError::NotFound)
    } else if must_manage && !manage {
        Some(AppError::Forbidden)
    } else {
        None
    };
    if let Some(answer) = refusal {
        let e = attempt.record(id).org(&invoice.org_id);
        return Err(super::audit::refused(tx, state.now(), actor, e, answer).await);
    }
    Ok((tx, invoice, payer, manage))
}

pub async fn view(state: &AppState, actor: &Actor, id: &str) -> AppResult<InvoiceView> {
    let now = state.now();
    let (mut tx, invoice, payer, manage) =
        open_invoice(state, actor, id, Event::new("read", "invoice"), false).await?;
    let mut lines = store::funding::lines(&mut tx, id).await?;
    if !manage {
        // A funder sees the reference, never the ids of the records behind a line.
        for l in &mut lines {
            l.event_key.clear();
            l.trajectory_id.clear();
        }
    }
    let org_name = store::orgs::by_id(&mut tx, &invoice.org_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    record(
        &mut tx,
        now,
        actor,
        Event::new("read", "invoice")
            .record(id)
            .org(&invoice.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(InvoiceView {
        invoice,
        lines,
        payer,
        org_name,
        manage,
    })
}

async fn number_for(c: &mut Conn, org_id: &str, now: i64) -> AppResult<String> {
    let year: i32 = clock::local_date(now)
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1970);
    let seq = store::funding::next_number(c, org_id, i64::from(year)).await?;
    Ok(funding::invoice_number(
        year,
        seq.clamp(0, u32::MAX.into()) as u32,
    ))
}

async fn mail_payer(
    c: &mut Conn,
    state: &AppState,
    invoice: &InvoiceRow,
    payer: &PayerRow,
    number: &str,
) -> AppResult<()> {
    if payer.email.is_empty() {
        return Ok(());
    }
    let link = format!("{}/invoices/{}", state.config.base_url, invoice.id);
    let total = funding::format_cents(invoice.total_cents, false);
    let org = store::orgs::by_id(c, &invoice.org_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    mail::queue(
        c,
        state,
        mail::Mail::Invoice {
            link: &link,
            number,
            total: &total,
            org: &org,
            credit: invoice.kind == "credit_note",
        },
        &payer.email,
        "nl",
    )
    .await?;
    Ok(())
}

/// Gives a draft the next number and marks it sent (also used by the demo data).
pub(crate) async fn issue(c: &mut Conn, org_id: &str, id: &str, now: i64) -> AppResult<String> {
    let number = number_for(c, org_id, now).await?;
    if !store::funding::mark_sent(c, id, &number, now).await? {
        return Err(AppError::Conflict("invoice-sent"));
    }
    Ok(number)
}

/// Sends a draft: it gets the next number, can no longer change, and the payer is mailed.
pub async fn send(state: &AppState, actor: &Actor, id: &str) -> AppResult<String> {
    let now = state.now();
    let (mut tx, invoice, payer, _) =
        open_invoice(state, actor, id, Event::new("send", "invoice"), true).await?;
    if invoice.status != "draft" {
        return Err(AppError::Conflict("invoice-sent"));
    }
    let number = issue(&mut tx, &invoice.org_id, id, now).await?;
    mail_payer(&mut tx, state, &invoice, &payer, &number).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("send", "invoice")
            .record(id)
            .org(&invoice.org_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(number)
}

/// Marks a sent invoice paid.
pub async fn mark_paid(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let now = state.now();
    let (mut tx, invoice, _, _) =
        open_invoice(state, actor, id, Event::new("update", "invoice"), true).await?;
    if invoice.kind != "invoice" || !store::funding::mark_paid(&mut tx, id, now).await? {
        return Err(AppError::Conflict("invoice-not-payable"));
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("update", "invoice")
            .record(id)
            .org(&invoice.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Credits a sent (or paid) invoice in full: a credit note with every line negated, numbered
/// and sent at once; the events become billable again for a corrected invoice.
pub async fn credit(state: &AppState, actor: &Actor, id: &str) -> AppResult<String> {
    let now = state.now();
    let (mut tx, invoice, payer, _) =
        open_invoice(state, actor, id, Event::new("create", "credit_note"), true).await?;
    if invoice.kind != "invoice" || invoice.status == "draft" || invoice.credited_by.is_some() {
        return Err(AppError::Conflict("invoice-not-creditable"));
    }
    let lines = store::funding::lines(&mut tx, id).await?;
    let new_lines: Vec<NewLine> = lines
        .iter()
        .map(|l| NewLine {
            event_key: &l.event_key,
            trajectory_id: &l.trajectory_id,
            contract_id: &l.contract_id,
            service_date: &l.service_date,
            service: &l.service,
            reference: &l.reference,
            cents: -l.cents,
        })
        .collect();
    let number = number_for(&mut tx, &invoice.org_id, now).await?;
    let credit_id = store::funding::insert_invoice(
        &mut tx,
        &NewInvoice {
            org_id: &invoice.org_id,
            payer_id: &invoice.payer_id,
            kind: "credit_note",
            credits_id: Some(id),
            number: Some(&number),
            period_from: &invoice.period_from,
            period_to: &invoice.period_to,
            status: "sent",
            created_by: &actor.identity.user_id,
            sent_at: Some(now),
        },
        &new_lines,
        false,
        now,
    )
    .await?
    .ok_or(AppError::Conflict("invoice-not-creditable"))?;
    if !store::funding::mark_credited(&mut tx, id, &credit_id).await? {
        return Err(AppError::Conflict("invoice-not-creditable"));
    }
    let credit_row = store::funding::invoice(&mut tx, &credit_id)
        .await?
        .ok_or(AppError::NotFound)?;
    mail_payer(&mut tx, state, &credit_row, &payer, &number).await?;
    record(
        &mut tx,
        now,
        actor,
        Event::new("create", "credit_note")
            .record(&credit_id)
            .org(&invoice.org_id),
    )
    .await?;
    tx.commit().await?;
    state.mail_wakeup.notify_one();
    Ok(credit_id)
}

/// Deletes a draft; its events can be billed again. Sent invoices are credited instead.
pub async fn delete_draft(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let now = state.now();
    let (mut tx, invoice, _, _) =
        open_invoice(state, actor, id, Event::new("delete", "invoice"), true).await?;
    if !store::funding::delete_draft(&mut tx, id).await? {
        return Err(AppError::Conflict("invoice-sent"));
    }
    record(
        &mut tx,
        now,
        actor,
        Event::new("delete", "invoice")
            .record(id)
            .org(&invoice.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub fn service_label(lang: crate::i18n::Lang, service: &str) -> String {
    lang.t(&format!("service-{service}"))
}

/// The invoice as a PDF (audit-logged as a print).
pub async fn pdf(state: &AppState, actor: &Actor, id: &str) -> AppResult<Vec<u8>> {
    use duurloop_documents::TableDoc;
    let lang = crate::i18n::Lang::Nl;
    let v = view(state, actor, id).await?;
    let mut tx = state.db.begin().await?;
    record(
        &mut tx,
        state.now(),
        actor,
        Event::new("print", "invoice")
            .record(id)
            .org(&v.invoice.org_id),
    )
    .await?;
    tx.commit().await?;
    let title = match (&v.invoice.kind[..], &v.invoice.number) {
        ("credit_note", Some(n)) => lang.t_args("invoice-credit-title", &[("number", n)]),
        (_, Some(n)) => lang.t_args("invoice-title", &[("number", n)]),
        _ => lang.t("invoice-draft-title"),
    };
    let mut header_lines = vec![
        v.org_name.clone(),
        format!("{}: {}", lang.t("invoice-to"), v.payer.name),
    ];
    for extra in [&v.payer.address, &v.payer.reference] {
        if !extra.is_empty() {
            header_lines.push(extra.clone());
        }
    }
    header_lines.push(format!(
        "{}: {} – {}",
        lang.t("invoice-period"),
        v.invoice.period_from,
        v.invoice.period_to
    ));
    if let Some(sent) = v.invoice.sent_at {
        header_lines.push(format!(
            "{}: {}",
            lang.t("invoice-date"),
            clock::local_date(sent)
        ));
    }
    let rows = v
        .lines
        .iter()
        .map(|l| {
            vec![
                l.service_date.clone(),
                service_label(lang, &l.service),
                l.reference.clone(),
                l.contract_name.clone(),
                funding::format_cents(l.cents, false),
            ]
        })
        .collect();
    let doc = TableDoc {
        title,
        header_lines,
        columns: vec![
            lang.t("invoice-col-date"),
            lang.t("invoice-col-service"),
            lang.t("invoice-col-reference"),
            lang.t("invoice-col-contract"),
            lang.t("invoice-col-amount"),
        ],
        rows,
        footer_lines: vec![
            format!(
                "{}: {}",
                lang.t("invoice-total"),
                funding::format_cents(v.invoice.total_cents, false)
            ),
            lang.t("invoice-pseudonym-note"),
        ],
    };
    duurloop_documents::table_pdf(&doc).map_err(|e| AppError::Internal(e.into()))
}

/// The lines of an organisation's sent and paid invoices and credit notes (billing side) or
/// of those addressed to it (funder side), sent in the period, as CSV.
pub async fn csv(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    from: &str,
    to: &str,
) -> AppResult<String> {
    use duurloop_domain::report::csv_escape;
    let list = invoices(state, actor, org_id).await?;
    let (from, to) = (parse_date(from), parse_date(to));
    let mut out =
        String::from("invoice,kind,status,payer,date,service,reference,contract,amount_cents\n");
    let mut c = state.db.conn().await?;
    for inv in list.invoices.iter().filter(|i| i.status != "draft") {
        let sent = inv
            .sent_at
            .map(clock::local_date)
            .and_then(|d| parse_date(&d));
        if from.is_some_and(|f| sent.is_some_and(|s| s < f))
            || to.is_some_and(|t| sent.is_some_and(|s| s > t))
        {
            continue;
        }
        for l in store::funding::lines(&mut c, &inv.id).await? {
            let fields = [
                inv.number.clone().unwrap_or_default(),
                inv.kind.clone(),
                inv.status.clone(),
                inv.payer_name.clone(),
                l.service_date,
                l.service,
                l.reference,
                l.contract_name,
                l.cents.to_string(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_escape(f)).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    let mut tx = state.db.begin().await?;
    record(
        &mut tx,
        state.now(),
        actor,
        Event::new("export", "invoice").org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// A contract with a budget and how it is used.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Budget {
    pub contract_id: String,
    pub contract: String,
    pub payer: String,
    pub budget_cents: i64,
    /// On sent and paid invoices, credit notes subtracted.
    pub invoiced_cents: i64,
    /// On draft invoices.
    pub draft_cents: i64,
    /// Recorded and paid by this contract, not on an invoice yet.
    pub open_cents: i64,
    /// Budget left after all of the above.
    pub left_cents: i64,
    /// Share of the budget used, 0–1.
    pub used: f64,
}

/// The budgets of a billing organisation's contracts (its coordinator) or of the contracts of
/// payers standing for a funder organisation (its funders).
pub async fn budgets(state: &AppState, actor: &Actor, org_id: &str) -> AppResult<Vec<Budget>> {
    let side = side(actor, org_id)?;
    let mut c = state.db.conn().await?;
    let billing_orgs: Vec<String> = match side {
        Side::Billing => vec![org_id.to_string()],
        Side::Funder => {
            let mut orgs: Vec<String> = store::funding::payers_funded_by(&mut c, org_id)
                .await?
                .into_iter()
                .map(|p| p.org_id)
                .collect();
            orgs.sort();
            orgs.dedup();
            orgs
        }
    };
    let mut out = Vec::new();
    for billing in billing_orgs {
        let books = books(&mut c, &billing).await?;
        let used = store::funding::contract_use(&mut c, &billing).await?;
        let funder_payers: HashSet<String> = match side {
            Side::Billing => HashSet::new(),
            Side::Funder => store::funding::payers_funded_by(&mut c, org_id)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect(),
        };
        for k in &books.contracts {
            let Some(budget) = k.contract.budget_cents else {
                continue;
            };
            if side == Side::Funder && !funder_payers.contains(&k.contract.payer_id) {
                continue;
            }
            let (invoiced, draft) = used
                .iter()
                .find(|(id, ..)| *id == k.contract.id)
                .map(|(_, a, b)| (*a, *b))
                .unwrap_or_default();
            let open: i64 = books
                .assignment
                .lines
                .iter()
                .filter(|l| l.contract == k.contract.id && !books.billed.contains(&l.key))
                .map(|l| l.cents)
                .sum();
            let spent = invoiced + draft + open;
            out.push(Budget {
                contract_id: k.contract.id.clone(),
                contract: k.contract.name.clone(),
                payer: k.contract.payer_name.clone(),
                budget_cents: budget,
                invoiced_cents: invoiced,
                draft_cents: draft,
                open_cents: open,
                left_cents: budget - spent,
                used: if budget > 0 {
                    spent as f64 / budget as f64
                } else {
                    0.0
                },
            });
        }
    }
    let mut tx = state.db.begin().await?;
    record(
        &mut tx,
        state.now(),
        actor,
        Event::new("read", "budget").org(org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
