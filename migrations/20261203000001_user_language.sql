-- The account's language, chosen on the profile page or with the language switch while
-- signed in. NULL: never chosen, the browser decides (the `ag_lang` cookie, then
-- Accept-Language). Read with the session check every authenticated request already makes.
ALTER TABLE users ADD COLUMN language TEXT CHECK (language IN ('fr', 'en'));

-- The LinkedIn member's display name (userinfo's `name`), so the profile page can say which
-- LinkedIn account is connected. NULL when not connected, or connected before this column.
ALTER TABLE user_profiles ADD COLUMN linkedin_member_name TEXT
    CHECK (length(linkedin_member_name) <= 200);
