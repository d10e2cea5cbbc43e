-- When the last POST of a publication went out without an answer: a copy may be sent only
-- while LinkedIn still refuses identical posts (a day); past that, the outcome is for the
-- owner to settle.
ALTER TABLE publications ADD COLUMN last_sent_at TIMESTAMPTZ;

-- The run that may decide to POST this publication: one job at a time (its retries carry
-- the same job id), until the lease runs out. Two jobs for one content (a unique key lost
-- with Redis, a reconciler's copy) can never both reach the POST.
ALTER TABLE publications
    ADD COLUMN send_lease_job   TEXT,
    ADD COLUMN send_lease_until TIMESTAMPTZ;
