-- The owner paused all her publishing (NULL: not paused). A PublishPost whose slot comes
-- while it is set waits (a deferral: no attempt spent) and a resume places the waiting
-- posts in the slots to come, so nothing goes out in a burst once she resumes.
ALTER TABLE user_profiles ADD COLUMN publishing_paused_at TIMESTAMPTZ;

-- The LinkedIn member's photo (userinfo's `picture`), fetched once at connect and kept
-- here: LinkedIn's media URLs expire, and the pages allow images from themselves only, so
-- the api serves it to the owner from this copy. At most 256 KiB (LinkedIn's are a few).
ALTER TABLE user_profiles
    ADD COLUMN linkedin_member_picture BYTEA
        CHECK (octet_length(linkedin_member_picture) <= 262144),
    ADD COLUMN linkedin_member_picture_type TEXT
        CHECK (linkedin_member_picture_type IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif'));
