-- Measurement (SPEC C7): own questionnaires, the measurement schedule per offering, the
-- measurements of each trajectory with their answers and scores, and safety alerts.

-- A coordinator's own short questionnaire (built-ins live in the code). Never edited once
-- made, so old answers keep meaning what they meant; it can be retired.
CREATE TABLE questionnaires (
    code        TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    definition  TEXT NOT NULL,
    active      BIGINT NOT NULL,
    created_by  TEXT REFERENCES users (id),
    created_at  BIGINT NOT NULL
);

-- Per offering: which points ("baseline,week5,…") and which instruments ("phq9,gad7,…").
-- Empty means the default.
ALTER TABLE offerings ADD COLUMN measure_points TEXT NOT NULL DEFAULT '';
ALTER TABLE offerings ADD COLUMN measure_instruments TEXT NOT NULL DEFAULT '';

-- One measurement point of a trajectory: one link, several instruments on one page.
CREATE TABLE measurements (
    id                TEXT PRIMARY KEY,
    trajectory_id     TEXT NOT NULL REFERENCES trajectories (id),
    point             TEXT NOT NULL,
    due_date          TEXT NOT NULL,
    instruments       TEXT NOT NULL,
    status            TEXT NOT NULL,
    token_hash        TEXT UNIQUE,
    token_expires_at  BIGINT,
    sent_at           BIGINT,
    reminders         BIGINT NOT NULL,
    escalated_at      BIGINT,
    answers           TEXT NOT NULL,
    completed_at      BIGINT,
    created_at        BIGINT NOT NULL,
    UNIQUE (trajectory_id, point)
);
CREATE INDEX measurements_due ON measurements (status, due_date);

-- The score of one instrument at one measurement: what reports aggregate.
CREATE TABLE measurement_scores (
    measurement_id  TEXT NOT NULL REFERENCES measurements (id),
    trajectory_id   TEXT NOT NULL REFERENCES trajectories (id),
    instrument      TEXT NOT NULL,
    point           TEXT NOT NULL,
    total           DOUBLE PRECISION NOT NULL,
    raw             BIGINT NOT NULL,
    band            TEXT,
    prorated        BIGINT NOT NULL,
    scored_at       BIGINT NOT NULL,
    PRIMARY KEY (measurement_id, instrument)
);
CREATE INDEX measurement_scores_trajectory ON measurement_scores (trajectory_id, instrument);

-- A safety rule fired (e.g. PHQ-9 item 9 above 0): shown to the therapist until acknowledged.
CREATE TABLE safety_alerts (
    id               TEXT PRIMARY KEY,
    measurement_id   TEXT NOT NULL REFERENCES measurements (id),
    trajectory_id    TEXT NOT NULL REFERENCES trajectories (id),
    instrument       TEXT NOT NULL,
    item             TEXT NOT NULL,
    answer           BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    acknowledged_at  BIGINT,
    acknowledged_by  TEXT REFERENCES users (id),
    UNIQUE (measurement_id, instrument, item)
);
