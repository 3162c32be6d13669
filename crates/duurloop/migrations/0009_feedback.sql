-- Feedback reports to the referrer (SPEC C8): at the end of a trajectory and at follow-up.
-- The numbers are generated when the report is shown; the therapist's texts are stored.
CREATE TABLE feedback_reports (
    id             TEXT PRIMARY KEY,
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL,
    summary        TEXT NOT NULL,
    advice         TEXT NOT NULL,
    next_steps     TEXT NOT NULL,
    created_by     TEXT REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    sent_at        BIGINT,
    sent_by        TEXT REFERENCES users (id),
    UNIQUE (trajectory_id, kind)
);
