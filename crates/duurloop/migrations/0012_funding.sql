-- Paying for it (SPEC C9): payers, contracts with tariffs and limits, funding sources per
-- trajectory, invoices whose lines come from recorded events, credit notes, numbers without
-- gaps. Money is integer cents; dates are local `YYYY-MM-DD` text, as elsewhere.

-- Who pays, as the billing organisation (a practice or care group) records it. `kind` is a
-- funding route (insurer, gp_module, subsidy, employer, uwv, municipality, self_pay);
-- `funder_org_id` links the payer's own organisation here, whose people then see its sent
-- invoices and budgets (never participants).
CREATE TABLE payers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    funder_org_id  TEXT REFERENCES organisations (id),
    reference      TEXT NOT NULL,
    address        TEXT NOT NULL,
    email          TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX payers_org ON payers (org_id);
CREATE INDEX payers_funder ON payers (funder_org_id);

-- A contract of a payer: validity, limits, an optional budget, and tariffs per service.
-- Never edited once made (invoices keep their meaning); a new year's tariffs are a new contract.
CREATE TABLE contracts (
    id            TEXT PRIMARY KEY,
    payer_id      TEXT NOT NULL REFERENCES payers (id),
    name          TEXT NOT NULL,
    valid_from    TEXT NOT NULL,
    valid_to      TEXT,
    max_sessions  BIGINT,
    max_weeks     BIGINT,
    budget_cents  BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX contracts_payer ON contracts (payer_id);

CREATE TABLE contract_tariffs (
    contract_id  TEXT NOT NULL REFERENCES contracts (id),
    service      TEXT NOT NULL,
    cents        BIGINT NOT NULL,
    PRIMARY KEY (contract_id, service)
);

-- A trajectory's funding sources, first position first.
CREATE TABLE trajectory_funding (
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    position       BIGINT NOT NULL,
    contract_id    TEXT NOT NULL REFERENCES contracts (id),
    PRIMARY KEY (trajectory_id, position)
);
CREATE INDEX trajectory_funding_contract ON trajectory_funding (contract_id);

-- The last invoice number given per billing organisation and year.
CREATE TABLE invoice_counters (
    org_id  TEXT NOT NULL REFERENCES organisations (id),
    year    BIGINT NOT NULL,
    last    BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

-- An invoice (or a credit note crediting one). A draft has no number; sending gives it the
-- next number of its organisation's year, so deleted drafts leave no gap. Sent and paid
-- invoices never change; a credit note cancels one.
CREATE TABLE invoices (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    payer_id     TEXT NOT NULL REFERENCES payers (id),
    kind         TEXT NOT NULL,
    credits_id   TEXT REFERENCES invoices (id),
    credited_by  TEXT,
    number       TEXT,
    period_from  TEXT NOT NULL,
    period_to    TEXT NOT NULL,
    status       TEXT NOT NULL,
    total_cents  BIGINT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT,
    paid_at      BIGINT,
    UNIQUE (org_id, number)
);
CREATE INDEX invoices_payer ON invoices (payer_id, created_at);
CREATE INDEX invoices_org ON invoices (org_id, created_at);

-- One billed event. `reference` is the participant's pseudonymous reference (no names on
-- invoices); `event_key` names the recorded event (intake, attended session, module fee).
CREATE TABLE invoice_lines (
    id             TEXT PRIMARY KEY,
    invoice_id     TEXT NOT NULL REFERENCES invoices (id),
    position       BIGINT NOT NULL,
    event_key      TEXT NOT NULL,
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    contract_id    TEXT NOT NULL REFERENCES contracts (id),
    service_date   TEXT NOT NULL,
    service        TEXT NOT NULL,
    reference      TEXT NOT NULL,
    cents          BIGINT NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, position);
CREATE INDEX invoice_lines_contract ON invoice_lines (contract_id);

-- Each recorded event is billed once: its key is held by the line that bills it, and let go
-- when that draft is deleted or that invoice credited (so it can be billed again, correctly).
CREATE TABLE billed_events (
    event_key  TEXT PRIMARY KEY,
    line_id    TEXT NOT NULL REFERENCES invoice_lines (id)
);
