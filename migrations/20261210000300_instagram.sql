-- Instagram beside LinkedIn: one publication per content and platform, Instagram's grant
-- sealed in the vault as LinkedIn's is, and the platforms a campaign or a post goes to.
-- Every row of today stays as it is: they are all LinkedIn's.

-- One publication row per (content, platform): a post that goes to both platforms has two,
-- each with its own state, ids and engagement.
ALTER TABLE publications DROP CONSTRAINT publications_content_id_key;
ALTER TABLE publications
    ADD CONSTRAINT publications_content_id_platform_key UNIQUE (content_id, platform);
ALTER TABLE publications DROP CONSTRAINT publications_platform_check;
ALTER TABLE publications
    ADD CONSTRAINT publications_platform_check CHECK (platform IN ('linkedin', 'instagram'));

-- Instagram's exactly-once: the container is stored before `media_publish`, so a run that
-- did not hear the answer asks the container's `status_code` (PUBLISHED: ours) instead of
-- publishing again. Its creation time tells when it expires (24 h).
ALTER TABLE publications
    ADD COLUMN container_id         TEXT CHECK (container_id ~ '^[0-9]{1,40}$'),
    ADD COLUMN container_created_at TIMESTAMPTZ,
    -- Instagram's reach and views, beside LinkedIn's impressions.
    ADD COLUMN reach                INTEGER NOT NULL DEFAULT 0 CHECK (reach >= 0),
    ADD COLUMN views                INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0);

-- The publishing limit's own count: posts this owner published on Instagram in the moving
-- 24 h window, from `published_at`.
CREATE INDEX publications_instagram_published_idx ON publications (user_id, published_at)
    WHERE platform = 'instagram' AND published_at IS NOT NULL;

-- Instagram's grant: a long-lived token (60 days) sealed by the token vault (AAD = user id
-- + field name, as LinkedIn's), refreshed after 24 h and before it expires; the
-- app-scoped Instagram user id every publishing call names; the username shown to the
-- owner; the permissions granted.
ALTER TABLE user_profiles
    ADD COLUMN instagram_access_token      BYTEA,
    ADD COLUMN instagram_token_expires_at  TIMESTAMPTZ,
    ADD COLUMN instagram_token_issued_at   TIMESTAMPTZ,
    ADD COLUMN instagram_user_id           TEXT CHECK (instagram_user_id ~ '^[0-9]{1,40}$'),
    ADD COLUMN instagram_username          TEXT CHECK (length(instagram_username) <= 200),
    ADD COLUMN instagram_scope             TEXT CHECK (length(instagram_scope) <= 1000),
    ADD COLUMN instagram_connected         BOOLEAN NOT NULL DEFAULT false,
    -- Set when Instagram refuses the token (code 190) and it cannot be refreshed:
    -- Instagram publishing waits for the owner to connect again.
    ADD COLUMN instagram_reconnect_needed  BOOLEAN NOT NULL DEFAULT false,
    ADD CONSTRAINT user_profiles_instagram_connected_check
        CHECK (NOT instagram_connected
               OR (instagram_access_token IS NOT NULL AND instagram_user_id IS NOT NULL));

-- Where a campaign's posts go, and where each post goes (the gallery and the schedule
-- change it). NULL: every platform connected when the post is placed, the default.
ALTER TABLE campaigns
    ADD COLUMN platforms TEXT[]
        CHECK (platforms <@ ARRAY['linkedin', 'instagram']::TEXT[] AND cardinality(platforms) >= 1);
ALTER TABLE contents
    ADD COLUMN platforms TEXT[]
        CHECK (platforms <@ ARRAY['linkedin', 'instagram']::TEXT[] AND cardinality(platforms) >= 1);
