-- Sign-in through OpenID Connect providers. An identity is the issuer's URL and the subject
-- it names (`sub`), never the e-mail: e-mails change hands and providers reuse none of
-- their subjects. One account can hold several identities.
CREATE TABLE user_identities (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The configured provider's name (`oidc.providers.<name>`), for the profile page.
    provider     TEXT        NOT NULL CHECK (length(provider) BETWEEN 1 AND 40),
    issuer       TEXT        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
    subject      TEXT        NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    -- What the provider last said the address was: shown, never used to find the account.
    email        TEXT        CHECK (length(email) <= 254),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    UNIQUE (issuer, subject)
);

CREATE INDEX user_identities_user ON user_identities (user_id);

-- An account made through a provider has no password until its owner sets one through
-- "forgot password".
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
