-- The scopes the member really granted, as the token endpoint answered them (its `scope`,
-- space-separated here), stored at each connect and refresh: LinkedIn grants only what the
-- app's products allow, so post analytics (`r_member_postAnalytics`) are synced only for
-- grants that hold it. NULL: connected before this column; that connect asked for post
-- analytics and LinkedIn refuses a whole connect whose scopes are not all allowed, so such a
-- grant is treated as holding them until its next connect or refresh says otherwise.
ALTER TABLE user_profiles ADD COLUMN linkedin_scope TEXT
    CHECK (length(linkedin_scope) <= 1000);
