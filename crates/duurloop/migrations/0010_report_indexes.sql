-- Impact reports (SPEC C10) at regional scale: indexes for the per-referral look-ups of the
-- report, and the first and latest score per trajectory and instrument.

-- Sessions attended and recorded per trajectory, counted from the index alone.
CREATE INDEX attendance_trajectory ON attendance (trajectory_id, status);
-- A referral's first `started` event, and the `dropped_out` events of a period.
CREATE INDEX referral_events_status ON referral_events (to_status, referral_id, at);

-- The first and the latest score of each trajectory on each instrument, and how many scores
-- there are: what a report compares (first against latest). Written by the store in the same
-- transaction as every score (`store::measure::insert_score`); scores are never changed or
-- removed. Of scores given at the same instant, the first is the one stored first and the
-- latest the one stored last.
CREATE TABLE score_pairs (
    trajectory_id  TEXT NOT NULL REFERENCES trajectories (id),
    instrument     TEXT NOT NULL,
    scores         BIGINT NOT NULL,
    first_total    DOUBLE PRECISION NOT NULL,
    first_at       BIGINT NOT NULL,
    last_total     DOUBLE PRECISION NOT NULL,
    last_at        BIGINT NOT NULL,
    PRIMARY KEY (trajectory_id, instrument)
);

-- The scores given before this migration (ties broken by measurement id: uuid v7, in the
-- order measurements were made).
INSERT INTO score_pairs (trajectory_id, instrument, scores, first_total, first_at, last_total, last_at)
SELECT s.trajectory_id, s.instrument, CAST(COUNT(*) AS BIGINT),
    (SELECT f.total FROM measurement_scores f
     WHERE f.trajectory_id = s.trajectory_id AND f.instrument = s.instrument
     ORDER BY f.scored_at, f.measurement_id LIMIT 1),
    MIN(s.scored_at),
    (SELECT l.total FROM measurement_scores l
     WHERE l.trajectory_id = s.trajectory_id AND l.instrument = s.instrument
     ORDER BY l.scored_at DESC, l.measurement_id DESC LIMIT 1),
    MAX(s.scored_at)
FROM measurement_scores s
GROUP BY s.trajectory_id, s.instrument;
