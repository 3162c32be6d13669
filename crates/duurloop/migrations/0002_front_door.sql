-- The front door: directory (therapists, locations, offerings), referrals with their timeline,
-- client invitations, intakes with the health screen. Lists of codes (indications, funding
-- routes, weekdays) are stored as comma-separated text: filtered with LIKE on both databases.

ALTER TABLE organisations ADD COLUMN share_referrals BIGINT NOT NULL DEFAULT 0;

CREATE TABLE therapists (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    user_id      TEXT REFERENCES users (id),
    name         TEXT NOT NULL,
    profession   TEXT NOT NULL,
    brtn_number  TEXT NOT NULL DEFAULT '',
    brtn_status  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX therapists_org ON therapists (org_id);
CREATE INDEX therapists_user ON therapists (user_id);

CREATE TABLE locations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    postcode    TEXT NOT NULL,
    place       TEXT NOT NULL,
    lat_e6      BIGINT NOT NULL,
    lon_e6      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX locations_org ON locations (org_id);

CREATE TABLE offerings (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    therapist_id  TEXT NOT NULL REFERENCES therapists (id),
    location_id   TEXT NOT NULL REFERENCES locations (id),
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL,
    schedule      TEXT NOT NULL,
    weekdays      TEXT NOT NULL,
    start_date    TEXT NOT NULL,
    weeks         BIGINT NOT NULL,
    capacity      BIGINT NOT NULL,
    funding       TEXT NOT NULL,
    indications   TEXT NOT NULL,
    price_cents   BIGINT NOT NULL,
    listed        BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX offerings_org ON offerings (org_id);

CREATE TABLE referrals (
    id                      TEXT PRIMARY KEY,
    status                  TEXT NOT NULL,
    source                  TEXT NOT NULL,
    offering_id             TEXT REFERENCES offerings (id),
    region_org_id           TEXT REFERENCES organisations (id),
    referrer_user_id        TEXT REFERENCES users (id),
    referrer_org_id         TEXT REFERENCES organisations (id),
    client_name             TEXT NOT NULL,
    client_email            TEXT NOT NULL,
    client_phone            TEXT NOT NULL,
    client_postcode         TEXT NOT NULL,
    indications             TEXT NOT NULL,
    medication              TEXT NOT NULL,
    physical_limits         TEXT NOT NULL,
    motivation              TEXT NOT NULL,
    funding_route           TEXT NOT NULL,
    consent_by              TEXT NOT NULL,
    consent_at              BIGINT NOT NULL,
    consent_text            TEXT NOT NULL,
    note                    TEXT NOT NULL,
    submission_key          TEXT NOT NULL UNIQUE,
    respond_by              BIGINT NOT NULL,
    reminded_therapist_at   BIGINT,
    reminded_coordinator_at BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX referrals_offering ON referrals (offering_id);
CREATE INDEX referrals_referrer ON referrals (referrer_user_id);
CREATE INDEX referrals_status ON referrals (status, respond_by);

CREATE TABLE referral_events (
    id            TEXT PRIMARY KEY,
    referral_id   TEXT NOT NULL REFERENCES referrals (id),
    at            BIGINT NOT NULL,
    actor_user_id TEXT,
    kind          TEXT NOT NULL,
    from_status   TEXT,
    to_status     TEXT,
    note          TEXT NOT NULL
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, at);

CREATE TABLE client_invitations (
    token_hash   TEXT PRIMARY KEY,
    referral_id  TEXT NOT NULL REFERENCES referrals (id),
    intake_at    TEXT NOT NULL,
    trial_at     TEXT NOT NULL,
    message      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    confirmed_at BIGINT
);

CREATE TABLE intakes (
    referral_id        TEXT PRIMARY KEY REFERENCES referrals (id),
    planned_for        TEXT NOT NULL,
    screen             TEXT NOT NULL,
    flagged            TEXT NOT NULL,
    resting_hr         BIGINT,
    age                BIGINT,
    height_cm          BIGINT,
    weight_kg          BIGINT,
    current_activity   TEXT NOT NULL,
    running_history    TEXT NOT NULL,
    injuries           TEXT NOT NULL,
    goals              TEXT NOT NULL,
    preferences        TEXT NOT NULL,
    clearance_by       TEXT,
    clearance_date     TEXT,
    clearance_note     TEXT,
    recorded_at        BIGINT,
    decision           TEXT,
    decision_reason    TEXT NOT NULL,
    updated_at         BIGINT NOT NULL
);
