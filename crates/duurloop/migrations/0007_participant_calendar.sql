-- Secret calendar (iCal) links for participants: the sessions of their group. One active
-- link per trajectory, stored as a hash.
CREATE TABLE participant_calendar_feeds (
    trajectory_id  TEXT PRIMARY KEY REFERENCES trajectories (id),
    token_hash     TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL
);
