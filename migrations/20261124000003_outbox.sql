-- Jobs to enqueue, written in the same transaction as the change that causes them (a
-- launch, an approval). A relay moves them to Redis and deletes them, so a Redis outage
-- delays a launch but never loses it.

CREATE TABLE outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `jobs::Job::KIND` of the job; the relay maps it back to the typed job, so the
    -- unique key, queue and attempt budget come from the job type, not from this row.
    kind       TEXT        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    args       JSONB       NOT NULL,
    user_id    BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    run_at     TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Failed relay attempts for this row (a kind this build does not know): it is then
    -- skipped until `next_attempt_at`, so one bad row never blocks the others.
    attempts        INTEGER     NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX outbox_next_attempt_idx ON outbox (next_attempt_at, id);

-- Wakes the relays at commit time instead of waiting for their next poll.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ag_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
