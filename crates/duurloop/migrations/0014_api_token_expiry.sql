-- Personal API tokens expire (ASVS 3.5.2): each gets an end date when it is made (30, 90 or
-- 365 days, chosen on the account page). Tokens made before this migration had none; they
-- get a year from their creation, so an integration in use keeps working for a while and its
-- owner sees the date on the account page.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE api_tokens SET expires_at = created_at + 31536000000;
