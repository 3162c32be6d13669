-- Erasure on request (SPEC C12, AVG art. 17): when the personal data of a closed referral has
-- been erased (`app::referrals::erase`), this holds the moment, so pages show "erased on"
-- instead of the data and the same referral cannot be erased twice.
ALTER TABLE referrals ADD COLUMN erased_at BIGINT;
