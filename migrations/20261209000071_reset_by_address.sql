-- "Forgot password" takes the same time whether or not the address has an account: the
-- request writes the same row for any address (a password-reset mail addressed by
-- `address`, no owner yet) and its SendMail job; the mail job looks the address up, makes
-- the reset and sends the link when an account has it, and drops the mail when none does.
-- The address is cleared once the job has looked it up.
ALTER TABLE mails ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE mails ADD COLUMN address TEXT;
ALTER TABLE mails ADD CONSTRAINT mails_owner_or_address CHECK (
    user_id IS NOT NULL
    OR sent_at IS NOT NULL
    OR (kind = 'password_reset' AND address IS NOT NULL)
);
