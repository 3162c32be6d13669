-- Purging what has expired (ASVS 8.1.2) and limiting requests that send e-mail (ASVS 2.2.1).

-- The hourly purge (`store::purge`) finds expired rows by these columns instead of scanning.
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_created ON sessions (created_at);
CREATE INDEX portal_sessions_last_seen ON portal_sessions (last_seen_at);
CREATE INDEX portal_sessions_created ON portal_sessions (created_at);
CREATE INDEX portal_links_expires ON portal_links (expires_at);
CREATE INDEX portal_links_used ON portal_links (used_at);
CREATE INDEX password_resets_expires ON password_resets (expires_at);
CREATE INDEX password_resets_used ON password_resets (used_at);
CREATE INDEX invitations_expires ON invitations (expires_at);
CREATE INDEX invitations_accepted ON invitations (accepted_at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Requests for a password-reset or portal sign-in link that were let through (whether or not
-- the address is known), counted per address and per client IP. The address is stored as its
-- SHA-256 hash. Kept apart from `login_failures`: those are counted per IP for login
-- throttling and cleared by a successful login.
CREATE TABLE mail_requests (
    id           TEXT PRIMARY KEY,
    address_hash TEXT NOT NULL,
    ip           TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX mail_requests_address ON mail_requests (address_hash, at);
CREATE INDEX mail_requests_ip ON mail_requests (ip, at);
CREATE INDEX mail_requests_at ON mail_requests (at);
