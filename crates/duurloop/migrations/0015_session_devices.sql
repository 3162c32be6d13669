-- Each staff session remembers the browser it was opened in (the User-Agent header, first 300
-- characters), so the account page can list one's sessions by device and end them (ASVS 3.3.4).
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
