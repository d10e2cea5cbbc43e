-- When the last POST of a publication went out without an answer: a copy may be sent only
-- while LinkedIn still refuses identical posts (a day); past that, the outcome is for the
-- owner to settle.
ALTER TABLE publications ADD COLUMN last_sent_at TIMESTAMPTZ;
