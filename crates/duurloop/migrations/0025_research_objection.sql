-- A participant's objection to the use of their data for research (WGBO art. 7:458: data
-- may go to research without consent only when pseudonymised and the patient did not
-- object). NULL: no objection; else when it was made. Research exports leave such referrals
-- out (`app::research`).
ALTER TABLE referrals ADD COLUMN research_objection_at BIGINT;
