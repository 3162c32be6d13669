-- The language of the mails to the participant (nl or en): chosen on the referral form, taken
-- from the page on self-registration, and changed when the participant switches language in
-- the portal. Existing referrals stay Dutch, as their mails were.
ALTER TABLE referrals ADD COLUMN client_lang TEXT NOT NULL DEFAULT 'nl';
