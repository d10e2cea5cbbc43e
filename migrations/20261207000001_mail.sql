-- Mail to owners: password resets, and notices of what needs them (posts waiting for
-- approval, LinkedIn to reconnect, a campaign ended in error, a publication whose outcome
-- is unknown). Mails are sent by SendMail jobs on the `mail` queue, enqueued through the
-- outbox in the transaction that caused them.

-- One row per mail to send. The SendMail job carries only this id; the handler reads the
-- rest when it runs, so nothing secret travels through the outbox or Redis, and a job
-- delivered again finds `sent_at` set and sends nothing.
CREATE TABLE mails (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT        NOT NULL CHECK (kind IN ('password_reset', 'account_exists',
                                                     'approvals_waiting', 'linkedin_reconnect',
                                                     'campaign_error', 'publication_unknown')),
    campaign_id BIGINT      REFERENCES campaigns (id) ON DELETE CASCADE,
    -- What the mail is about beyond the campaign (the password reset's row).
    subject_id  BIGINT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set once the SMTP server accepted it, or when the handler decided not to send (the
    -- reset was used meanwhile, the owner opted out): either way it is done.
    sent_at     TIMESTAMPTZ,
    outcome     TEXT
);
CREATE INDEX mails_user_idx ON mails (user_id, created_at);

-- At most one notice per (owner, campaign, kind). Account-wide notices (LinkedIn) have no
-- campaign: NULLS NOT DISTINCT makes that one per owner too. The LinkedIn notice's row is
-- deleted once her grant is healthy again, so a later problem gets a new notice.
CREATE TABLE notices_sent (
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    campaign_id BIGINT      REFERENCES campaigns (id) ON DELETE CASCADE,
    kind        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (user_id, campaign_id, kind)
);

-- The notices an owner does not want, by kind (the profile page's check boxes).
ALTER TABLE users ADD COLUMN notices_off TEXT[] NOT NULL DEFAULT '{}';

-- Password resets. Only the SHA-256 of the link's token is kept: a copy of this table
-- resets nobody's password. The token is made by the mail job when it sends the link, so
-- it never exists in the outbox or in Redis; a retried send makes a new one (the older
-- link, if it ever arrived, stops working). Single use (`used_at`), 30 minutes long.
CREATE TABLE password_resets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  BYTEA       UNIQUE CHECK (length(token_hash) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
