-- Accounts: who signs in, and the business profile each owner's posts speak for.

CREATE TABLE users (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email             TEXT        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = btrim(email)),
    password_hash     TEXT        NOT NULL,
    name              TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role              TEXT        NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'admin')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_signed_in_at TIMESTAMPTZ
);

-- Unique case-insensitively: "Ana@X.com" and "ana@x.com" are one account.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE user_profiles (
    user_id                     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    business_name               TEXT CHECK (length(business_name) <= 200),
    business_type               TEXT CHECK (length(business_type) <= 100),
    location                    TEXT CHECK (length(location) <= 200),
    phone                       TEXT CHECK (length(phone) <= 40),
    website                     TEXT CHECK (length(website) <= 500),
    -- Sealed by the token vault (XChaCha20-Poly1305, AAD = user id + field name): a copy
    -- pasted into another user's row does not open.
    linkedin_access_token       BYTEA,
    linkedin_refresh_token      BYTEA,
    linkedin_token_expires_at   TIMESTAMPTZ,
    linkedin_refresh_expires_at TIMESTAMPTZ,
    linkedin_member_urn         TEXT CHECK (linkedin_member_urn LIKE 'urn:li:person:%'),
    linkedin_connected          BOOLEAN     NOT NULL DEFAULT false,
    -- Set when LinkedIn refuses the token and it cannot be refreshed: publishing waits
    -- for the owner to connect again.
    linkedin_reconnect_needed   BOOLEAN     NOT NULL DEFAULT false,
    updated_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (NOT linkedin_connected
           OR (linkedin_access_token IS NOT NULL AND linkedin_member_urn IS NOT NULL))
);
