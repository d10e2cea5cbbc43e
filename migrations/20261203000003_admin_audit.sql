-- What admins did to the queues (issue 11): who, what, when, on what, and how many jobs it
-- touched. Written by every admin action, from the pages and from /api/admin alike.

CREATE TABLE admin_audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- No foreign key: the record outlives the account; the e-mail is kept as it was then.
    user_id    BIGINT      NOT NULL,
    user_email TEXT        NOT NULL,
    action     TEXT        NOT NULL CHECK (action IN ('retry', 'discard', 'run_now',
                                                      'retry_matching', 'discard_matching',
                                                      'pause', 'resume')),
    queue      TEXT        NOT NULL CHECK (length(queue) BETWEEN 1 AND 64),
    -- One job's id, for the actions on one job.
    job_id     TEXT CHECK (length(job_id) <= 200),
    -- The filter of a bulk action ({"kind": ..., "user_id": ..., "text": ...}).
    filter     JSONB,
    affected   BIGINT      NOT NULL CHECK (affected >= 0)
);

-- The audit page lists newest first.
CREATE INDEX admin_audit_at_idx ON admin_audit (at DESC, id DESC);
