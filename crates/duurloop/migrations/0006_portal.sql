-- Participant portal: magic links, portal sessions, and the run log.
CREATE TABLE portal_links (
    token_hash     TEXT PRIMARY KEY,
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

CREATE TABLE portal_sessions (
    id_hash        TEXT PRIMARY KEY,
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL
);

CREATE TABLE runs (
    id                TEXT PRIMARY KEY,
    trajectory_id     TEXT NOT NULL REFERENCES trajectories (id),
    run_date          TEXT NOT NULL,
    duration_s        BIGINT NOT NULL,
    moving_s          BIGINT,
    distance_m        BIGINT,
    elevation_gain_m  BIGINT,
    avg_hr            BIGINT,
    max_hr            BIGINT,
    in_zone_s         BIGINT,
    exertion          BIGINT,
    mood_before       BIGINT,
    mood_after        BIGINT,
    pain              BIGINT NOT NULL,
    pain_where        TEXT NOT NULL,
    note              TEXT NOT NULL,
    source            TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX runs_trajectory ON runs (trajectory_id, run_date);
