-- Training (first part): accepting a referral starts a trajectory with a plan.
CREATE TABLE trajectories (
    id                 TEXT PRIMARY KEY,
    referral_id        TEXT NOT NULL UNIQUE REFERENCES referrals (id),
    offering_id        TEXT NOT NULL REFERENCES offerings (id),
    org_id             TEXT NOT NULL REFERENCES organisations (id),
    therapist_user_id  TEXT REFERENCES users (id),
    status             TEXT NOT NULL,
    start_date         TEXT NOT NULL,
    weeks              BIGINT NOT NULL,
    start_level        TEXT NOT NULL,
    plan               TEXT NOT NULL,
    current_week       BIGINT NOT NULL,
    hr_low             BIGINT,
    hr_high            BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX trajectories_offering ON trajectories (offering_id);
CREATE INDEX trajectories_therapist ON trajectories (therapist_user_id);
