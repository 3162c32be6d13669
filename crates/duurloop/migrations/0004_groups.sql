-- Training (second part): recurring group schedules, generated sessions, attendance.
CREATE TABLE schedule_slots (
    id            TEXT PRIMARY KEY,
    offering_id   TEXT NOT NULL REFERENCES offerings (id),
    weekday       BIGINT NOT NULL,
    start_time    TEXT NOT NULL,
    duration_min  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX schedule_slots_offering ON schedule_slots (offering_id);

CREATE TABLE group_sessions (
    id             TEXT PRIMARY KEY,
    offering_id    TEXT NOT NULL REFERENCES offerings (id),
    session_date   TEXT NOT NULL,
    start_time     TEXT NOT NULL,
    duration_min   BIGINT NOT NULL,
    cancelled_at   BIGINT,
    cancel_reason  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (offering_id, session_date, start_time)
);
CREATE INDEX group_sessions_offering ON group_sessions (offering_id, session_date);

CREATE TABLE attendance (
    session_id     TEXT NOT NULL REFERENCES group_sessions (id),
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    status         TEXT NOT NULL,
    note           TEXT NOT NULL,
    recorded_by    TEXT REFERENCES users (id),
    recorded_at    BIGINT NOT NULL,
    PRIMARY KEY (session_id, trajectory_id)
);
