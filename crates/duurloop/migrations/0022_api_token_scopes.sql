-- Personal API tokens get a scope (ASVS 3.5.2), chosen when one is made: 'read' (GET and
-- HEAD only) or 'read-write' (whatever its owner may do). Tokens made before this migration
-- carried all their owner's rights, so they become 'read-write' and keep working as they did;
-- their owners see the scope on the account page and can replace them with a read token.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read-write';
