//! Payers, contracts, funding sources per trajectory, invoices and their lines (SPEC C9).

use sqlx::{FromRow, Row};

use super::{Conn, new_id};

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PayerRow {
    pub id: String,
    /// The billing organisation that recorded this payer.
    pub org_id: String,
    /// insurer, gp_module, subsidy, employer, uwv, municipality or self_pay
    pub kind: String,
    pub name: String,
    /// The payer's own organisation here, whose people see its invoices and budgets.
    pub funder_org_id: Option<String>,
    pub reference: String,
    pub address: String,
    pub email: String,
    pub created_at: i64,
}

pub struct NewPayer<'a> {
    pub org_id: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub funder_org_id: Option<&'a str>,
    pub reference: &'a str,
    pub address: &'a str,
    pub email: &'a str,
}

macro_rules! payer_select {
    () => {
        "SELECT id, org_id, kind, name, funder_org_id, reference, address, email, created_at FROM payers "
    };
}

pub async fn insert_payer(c: &mut Conn, p: &NewPayer<'_>, now: i64) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO payers (id, org_id, kind, name, funder_org_id, reference, address, email, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(p.org_id)
    .bind(p.kind)
    .bind(p.name)
    .bind(p.funder_org_id)
    .bind(p.reference)
    .bind(p.address)
    .bind(p.email)
    .bind(now)
    .execute(c)
    .await?;
    Ok(id)
}

/// A payer's details that can change: name, reference, address and e-mail (not its kind or
/// the organisation it stands for). Invoices already sent keep theirs (see `mark_sent`).
pub struct PayerDetails<'a> {
    pub name: &'a str,
    pub reference: &'a str,
    pub address: &'a str,
    pub email: &'a str,
}

pub async fn update_payer(
    c: &mut Conn,
    id: &str,
    d: &PayerDetails<'_>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE payers SET name = $2, reference = $3, address = $4, email = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(d.name)
    .bind(d.reference)
    .bind(d.address)
    .bind(d.email)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

pub async fn payer(c: &mut Conn, id: &str) -> Result<Option<PayerRow>, sqlx::Error> {
    sqlx::query_as(concat!(payer_select!(), "WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// The payers a billing organisation recorded, by name.
pub async fn payers_of(c: &mut Conn, org_id: &str) -> Result<Vec<PayerRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        payer_select!(),
        "WHERE org_id = $1 ORDER BY name, id"
    ))
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// The payers that stand for a funder organisation, at every billing organisation.
pub async fn payers_funded_by(
    c: &mut Conn,
    funder_org_id: &str,
) -> Result<Vec<PayerRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        payer_select!(),
        "WHERE funder_org_id = $1 ORDER BY name, id"
    ))
    .bind(funder_org_id)
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ContractRow {
    pub id: String,
    pub payer_id: String,
    pub payer_name: String,
    pub org_id: String,
    pub name: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub max_sessions: Option<i64>,
    pub max_weeks: Option<i64>,
    pub budget_cents: Option<i64>,
    pub created_at: i64,
}

pub struct NewContract<'a> {
    pub payer_id: &'a str,
    pub name: &'a str,
    pub valid_from: &'a str,
    pub valid_to: Option<&'a str>,
    pub max_sessions: Option<i64>,
    pub max_weeks: Option<i64>,
    pub budget_cents: Option<i64>,
    /// (service, cents)
    pub tariffs: &'a [(&'a str, i64)],
}

macro_rules! contract_select {
    () => {
        "SELECT k.id, k.payer_id, p.name AS payer_name, p.org_id, k.name, k.valid_from, k.valid_to, \
         k.max_sessions, k.max_weeks, k.budget_cents, k.created_at \
         FROM contracts k JOIN payers p ON p.id = k.payer_id "
    };
}

pub async fn insert_contract(
    c: &mut Conn,
    k: &NewContract<'_>,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO contracts (id, payer_id, name, valid_from, valid_to, max_sessions, max_weeks, budget_cents, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(k.payer_id)
    .bind(k.name)
    .bind(k.valid_from)
    .bind(k.valid_to)
    .bind(k.max_sessions)
    .bind(k.max_weeks)
    .bind(k.budget_cents)
    .bind(now)
    .execute(&mut *c)
    .await?;
    for (service, cents) in k.tariffs {
        sqlx::query(
            "INSERT INTO contract_tariffs (contract_id, service, cents) VALUES ($1, $2, $3)",
        )
        .bind(&id)
        .bind(*service)
        .bind(*cents)
        .execute(&mut *c)
        .await?;
    }
    Ok(id)
}

pub async fn contract(c: &mut Conn, id: &str) -> Result<Option<ContractRow>, sqlx::Error> {
    sqlx::query_as(concat!(contract_select!(), "WHERE k.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// Gives a contract its (earlier) end date, unless an event after it is billed under the
/// contract (on a draft or a sent invoice that is not credited). False when that is so.
pub async fn end_contract(c: &mut Conn, id: &str, valid_to: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE contracts SET valid_to = $2 WHERE id = $1 AND NOT EXISTS (\
         SELECT 1 FROM billed_events b JOIN invoice_lines l ON l.id = b.line_id \
         WHERE l.contract_id = $1 AND l.service_date > $2)",
    )
    .bind(id)
    .bind(valid_to)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

/// Per contract of a billing organisation: the last date billed under it (on a draft or a sent
/// invoice that is not credited), `YYYY-MM-DD`.
pub async fn billed_until(
    c: &mut Conn,
    org_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.contract_id, MAX(l.service_date) FROM billed_events b \
         JOIN invoice_lines l ON l.id = b.line_id JOIN invoices i ON i.id = l.invoice_id \
         WHERE i.org_id = $1 GROUP BY l.contract_id",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// The contracts of every payer of a billing organisation.
pub async fn contracts_of(c: &mut Conn, org_id: &str) -> Result<Vec<ContractRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        contract_select!(),
        "WHERE p.org_id = $1 ORDER BY p.name, k.valid_from, k.name"
    ))
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// Every tariff of a billing organisation's contracts: (contract, service, cents).
pub async fn tariffs_of(
    c: &mut Conn,
    org_id: &str,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.contract_id, t.service, t.cents FROM contract_tariffs t \
         JOIN contracts k ON k.id = t.contract_id JOIN payers p ON p.id = k.payer_id \
         WHERE p.org_id = $1 ORDER BY t.contract_id, t.service",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// Replaces a trajectory's funding sources by these contracts, in order.
pub async fn set_funding(
    c: &mut Conn,
    trajectory_id: &str,
    contract_ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM trajectory_funding WHERE trajectory_id = $1")
        .bind(trajectory_id)
        .execute(&mut *c)
        .await?;
    for (position, contract) in contract_ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO trajectory_funding (trajectory_id, position, contract_id) VALUES ($1, $2, $3)",
        )
        .bind(trajectory_id)
        .bind(position as i64)
        .bind(contract)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Every funding source of the trajectories of a billing organisation, with the trajectory's
/// start date: (trajectory, start date, contract), in each trajectory's order.
pub async fn fundings_of(
    c: &mut Conn,
    org_id: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT f.trajectory_id, t.start_date, f.contract_id FROM trajectory_funding f \
         JOIN trajectories t ON t.id = f.trajectory_id \
         WHERE t.org_id = $1 ORDER BY f.trajectory_id, f.position",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// The trajectories of an offering that have at least one funding source.
pub async fn funded_in_offering(
    c: &mut Conn,
    offering_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT f.trajectory_id FROM trajectory_funding f \
         JOIN trajectories t ON t.id = f.trajectory_id WHERE t.offering_id = $1",
    )
    .bind(offering_id)
    .fetch_all(c)
    .await
}

/// A recorded, billable event: an intake or an attended session.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub key: String,
    pub trajectory_id: String,
    /// `YYYY-MM-DD`; for intakes the moment it was recorded (converted by the caller).
    pub day: String,
    pub recorded_at: Option<i64>,
    /// intake, running_group or running_individual
    pub kind: String,
}

/// The recorded intakes and attended (not cancelled) sessions of the trajectories of a
/// billing organisation. Intakes carry `recorded_at` for the caller to turn into a local date.
pub async fn events_of(c: &mut Conn, org_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    let mut rows: Vec<EventRow> = sqlx::query_as(
        "SELECT 'session:' || a.session_id || ':' || a.trajectory_id AS key, a.trajectory_id, \
         s.session_date AS day, CAST(NULL AS BIGINT) AS recorded_at, o.kind \
         FROM attendance a JOIN trajectories t ON t.id = a.trajectory_id \
         JOIN group_sessions s ON s.id = a.session_id JOIN offerings o ON o.id = s.offering_id \
         WHERE t.org_id = $1 AND a.status = 'present' AND s.cancelled_at IS NULL",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await?;
    let intakes = sqlx::query(
        "SELECT 'intake:' || i.referral_id AS key, t.id AS trajectory_id, i.recorded_at \
         FROM intakes i JOIN trajectories t ON t.referral_id = i.referral_id \
         WHERE t.org_id = $1 AND i.recorded_at IS NOT NULL",
    )
    .bind(org_id)
    .fetch_all(c)
    .await?;
    for row in intakes {
        rows.push(EventRow {
            key: row.try_get("key")?,
            trajectory_id: row.try_get("trajectory_id")?,
            day: String::new(),
            recorded_at: row.try_get("recorded_at")?,
            kind: "intake".to_string(),
        });
    }
    Ok(rows)
}

/// The event keys already billed by a billing organisation's invoices.
pub async fn billed_keys(c: &mut Conn, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT b.event_key FROM billed_events b JOIN invoice_lines l ON l.id = b.line_id \
         JOIN invoices i ON i.id = l.invoice_id WHERE i.org_id = $1",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct InvoiceRow {
    pub id: String,
    pub org_id: String,
    pub payer_id: String,
    /// The payer's name as sent (a draft: as it is now).
    pub payer_name: String,
    /// The payer's reference as sent (a draft: as it is now).
    pub payer_reference: String,
    /// The payer's address as sent (a draft: as it is now).
    pub payer_address: String,
    /// invoice or credit_note
    pub kind: String,
    /// For a credit note: the invoice it credits.
    pub credits_id: Option<String>,
    /// For a credited invoice: its credit note.
    pub credited_by: Option<String>,
    /// Given when sent; none while a draft.
    pub number: Option<String>,
    pub period_from: String,
    pub period_to: String,
    /// draft, sent or paid
    pub status: String,
    pub total_cents: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub paid_at: Option<i64>,
}

macro_rules! invoice_select {
    () => {
        "SELECT i.id, i.org_id, i.payer_id, COALESCE(i.payer_name, p.name) AS payer_name, \
         COALESCE(i.payer_reference, p.reference) AS payer_reference, \
         COALESCE(i.payer_address, p.address) AS payer_address, i.kind, i.credits_id, i.credited_by, \
         i.number, i.period_from, i.period_to, i.status, i.total_cents, i.created_at, i.sent_at, i.paid_at \
         FROM invoices i JOIN payers p ON p.id = i.payer_id "
    };
}

/// The assignments that copy the payer's current name, reference and address onto an invoice
/// being sent, so that it keeps them when the payer is edited later.
macro_rules! keep_payer_details {
    () => {
        "payer_name = (SELECT p.name FROM payers p WHERE p.id = invoices.payer_id), \
         payer_reference = (SELECT p.reference FROM payers p WHERE p.id = invoices.payer_id), \
         payer_address = (SELECT p.address FROM payers p WHERE p.id = invoices.payer_id)"
    };
}

#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct LineRow {
    pub id: String,
    pub position: i64,
    pub event_key: String,
    pub trajectory_id: String,
    pub contract_id: String,
    pub contract_name: String,
    pub service_date: String,
    pub service: String,
    /// The participant's pseudonymous reference.
    pub reference: String,
    pub cents: i64,
}

pub struct NewLine<'a> {
    pub event_key: &'a str,
    pub trajectory_id: &'a str,
    pub contract_id: &'a str,
    pub service_date: &'a str,
    pub service: &'a str,
    pub reference: &'a str,
    pub cents: i64,
}

pub struct NewInvoice<'a> {
    pub org_id: &'a str,
    pub payer_id: &'a str,
    pub kind: &'a str,
    pub credits_id: Option<&'a str>,
    pub number: Option<&'a str>,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub status: &'a str,
    pub created_by: &'a str,
    pub sent_at: Option<i64>,
}

/// Writes an invoice with its lines; its total is the sum of the lines. With `claim`, each
/// line takes its event's key in `billed_events` (false when one was already billed: the
/// caller rolls back).
pub async fn insert_invoice(
    c: &mut Conn,
    inv: &NewInvoice<'_>,
    lines: &[NewLine<'_>],
    claim: bool,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let id = new_id();
    let total: i64 = lines.iter().map(|l| l.cents).sum();
    sqlx::query(
        "INSERT INTO invoices (id, org_id, payer_id, kind, credits_id, number, period_from, period_to, status, \
         total_cents, created_by, created_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(inv.org_id)
    .bind(inv.payer_id)
    .bind(inv.kind)
    .bind(inv.credits_id)
    .bind(inv.number)
    .bind(inv.period_from)
    .bind(inv.period_to)
    .bind(inv.status)
    .bind(total)
    .bind(inv.created_by)
    .bind(now)
    .bind(inv.sent_at)
    .execute(&mut *c)
    .await?;
    if inv.status != "draft" {
        // Sent at once (a credit note): it keeps the payer's details of now.
        sqlx::query(concat!(
            "UPDATE invoices SET ",
            keep_payer_details!(),
            " WHERE id = $1"
        ))
        .bind(&id)
        .execute(&mut *c)
        .await?;
    }
    for (position, l) in lines.iter().enumerate() {
        let line_id = new_id();
        sqlx::query(
            "INSERT INTO invoice_lines (id, invoice_id, position, event_key, trajectory_id, contract_id, \
             service_date, service, reference, cents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&line_id)
        .bind(&id)
        .bind(position as i64)
        .bind(l.event_key)
        .bind(l.trajectory_id)
        .bind(l.contract_id)
        .bind(l.service_date)
        .bind(l.service)
        .bind(l.reference)
        .bind(l.cents)
        .execute(&mut *c)
        .await?;
        if claim {
            let claimed = sqlx::query(
                "INSERT INTO billed_events (event_key, line_id) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING",
            )
            .bind(l.event_key)
            .bind(&line_id)
            .execute(&mut *c)
            .await?
            .rows_affected();
            if claimed == 0 {
                return Ok(None);
            }
        }
    }
    Ok(Some(id))
}

pub async fn invoice(c: &mut Conn, id: &str) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(concat!(invoice_select!(), "WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// A billing organisation's invoices, newest first.
pub async fn invoices_of(c: &mut Conn, org_id: &str) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        invoice_select!(),
        "WHERE i.org_id = $1 ORDER BY i.created_at DESC, i.id DESC"
    ))
    .bind(org_id)
    .fetch_all(c)
    .await
}

/// The sent and paid invoices and credit notes addressed to a funder organisation's payers.
pub async fn invoices_to(
    c: &mut Conn,
    funder_org_id: &str,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        invoice_select!(),
        "WHERE p.funder_org_id = $1 AND i.status <> 'draft' ORDER BY i.created_at DESC, i.id DESC"
    ))
    .bind(funder_org_id)
    .fetch_all(c)
    .await
}

pub async fn lines(c: &mut Conn, invoice_id: &str) -> Result<Vec<LineRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.position, l.event_key, l.trajectory_id, l.contract_id, k.name AS contract_name, \
         l.service_date, l.service, l.reference, l.cents \
         FROM invoice_lines l JOIN contracts k ON k.id = l.contract_id \
         WHERE l.invoice_id = $1 ORDER BY l.position",
    )
    .bind(invoice_id)
    .fetch_all(c)
    .await
}

/// Deletes a draft with its lines, letting go of its events. False when it is not a draft.
pub async fn delete_draft(c: &mut Conn, id: &str) -> Result<bool, sqlx::Error> {
    let draft = sqlx::query("SELECT id FROM invoices WHERE id = $1 AND status = 'draft'")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
    if !draft {
        return Ok(false);
    }
    release(c, id).await?;
    sqlx::query("DELETE FROM invoice_lines WHERE invoice_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM invoices WHERE id = $1 AND status = 'draft'")
        .bind(id)
        .execute(c)
        .await?;
    Ok(true)
}

/// Lets go of the events an invoice's lines billed.
async fn release(c: &mut Conn, invoice_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM billed_events WHERE line_id IN (SELECT id FROM invoice_lines WHERE invoice_id = $1)",
    )
    .bind(invoice_id)
    .execute(c)
    .await
    .map(|_| ())
}

/// The next invoice number of an organisation's year (1 for the first), counted in the
/// caller's transaction: the counter row is locked until it commits, so numbers have no gaps
/// and no doubles.
pub async fn next_number(c: &mut Conn, org_id: &str, year: i64) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO invoice_counters (org_id, year, last) VALUES ($1, $2, 0) ON CONFLICT (org_id, year) DO NOTHING",
    )
    .bind(org_id)
    .bind(year)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE invoice_counters SET last = last + 1 WHERE org_id = $1 AND year = $2")
        .bind(org_id)
        .bind(year)
        .execute(&mut *c)
        .await?;
    sqlx::query_scalar("SELECT last FROM invoice_counters WHERE org_id = $1 AND year = $2")
        .bind(org_id)
        .bind(year)
        .fetch_one(c)
        .await
}

/// Sends a draft under its number, keeping the payer's details of now on it. False when it was
/// not a draft.
pub async fn mark_sent(
    c: &mut Conn,
    id: &str,
    number: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(concat!(
        "UPDATE invoices SET status = 'sent', number = $2, sent_at = $3, ",
        keep_payer_details!(),
        " WHERE id = $1 AND status = 'draft'"
    ))
    .bind(id)
    .bind(number)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

/// Marks a sent invoice paid. False when it was not sent (or already paid).
pub async fn mark_paid(c: &mut Conn, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE invoices SET status = 'paid', paid_at = $2 WHERE id = $1 AND status = 'sent'",
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()
        == 1)
}

/// Notes the credit note of a sent or paid invoice and lets go of its events. False when it
/// was a draft or is credited already.
pub async fn mark_credited(c: &mut Conn, id: &str, credit_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invoices SET credited_by = $2 WHERE id = $1 AND kind = 'invoice' \
         AND status <> 'draft' AND credited_by IS NULL",
    )
    .bind(id)
    .bind(credit_id)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1;
    if done {
        release(c, id).await?;
    }
    Ok(done)
}

/// Per contract of a billing organisation: cents on sent or paid documents (credit notes
/// subtract) and cents on drafts.
pub async fn contract_use(
    c: &mut Conn,
    org_id: &str,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.contract_id, \
         CAST(COALESCE(SUM(CASE WHEN i.status <> 'draft' THEN l.cents ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN i.status = 'draft' THEN l.cents ELSE 0 END), 0) AS BIGINT) \
         FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id \
         WHERE i.org_id = $1 GROUP BY l.contract_id",
    )
    .bind(org_id)
    .fetch_all(c)
    .await
}
