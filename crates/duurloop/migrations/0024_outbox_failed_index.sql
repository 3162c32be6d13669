-- Mails the outbox gave up on are purged like sent ones, 90 days after they failed (ASVS
-- 8.1.2, `app::purge`): an index finds them without reading the whole outbox.
CREATE INDEX outbox_failed ON outbox (failed_at);
