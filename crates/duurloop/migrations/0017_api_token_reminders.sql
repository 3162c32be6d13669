-- A week before a personal API token expires its owner gets one e-mail (so an integration
-- does not stop by surprise); this remembers that it went out.
ALTER TABLE api_tokens ADD COLUMN reminded_at BIGINT;
CREATE INDEX api_tokens_expires ON api_tokens (expires_at);
