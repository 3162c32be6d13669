-- Impact reports (SPEC C10) at regional scale, second step: what the funnel aggregated from
-- every attendance row and every referral event on each run is now kept where it is written.
--
-- Sessions recorded and attended per trajectory: kept by `store::groups::record_attendance`
-- in the same transaction as the attendance row (attendance rows are never removed).
ALTER TABLE trajectories ADD COLUMN sessions_recorded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE trajectories ADD COLUMN sessions_attended BIGINT NOT NULL DEFAULT 0;
-- When the referral first became `started`: kept by `store::referrals::add_event` with the
-- event (events are never removed). NULL while it never started.
ALTER TABLE referrals ADD COLUMN started_at BIGINT;

UPDATE trajectories SET
    sessions_recorded = (SELECT COUNT(*) FROM attendance a WHERE a.trajectory_id = trajectories.id),
    sessions_attended = (SELECT COUNT(*) FROM attendance a
                         WHERE a.trajectory_id = trajectories.id AND a.status = 'present');
UPDATE referrals SET started_at = (SELECT MIN(e.at) FROM referral_events e
                                   WHERE e.referral_id = referrals.id AND e.to_status = 'started');
