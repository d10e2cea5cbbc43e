-- Sessions carry the version they were made at; bumping it (password or role change, sign
-- out everywhere) ends every session of the account at its next request.
ALTER TABLE users ADD COLUMN session_version BIGINT NOT NULL DEFAULT 0;
