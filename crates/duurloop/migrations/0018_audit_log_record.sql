-- "Who saw or changed this record" (NEN 7513, and the participant's own download of their
-- data, which lists the entries about their trajectory, referral, runs and questionnaires)
-- looks entries up by record. Without this index every such look-up read the whole log,
-- which at national scale holds millions of entries. It costs one more index entry per audit
-- write (written in batches for reads).
CREATE INDEX audit_log_record ON audit_log (record_id);
