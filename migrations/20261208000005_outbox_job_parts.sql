-- What an outbox row is enqueued with, decided from the typed job when the row is written
-- (`outbox::push_at`): its queue (`Job::QUEUE`), unique key (`Job::unique_key`), attempt
-- budget (`Job::MAX_ATTEMPTS`) and how long the unique key outlives the job's due time
-- (`Job::UNIQUE_FOR`, ms). The relay enqueues the row as it is and knows no job type, so a
-- new job kind changes nothing in it.
--
-- Rows written before this, and rows a process of the previous release writes while a
-- deploy rolls, have these NULL: the relay takes them from the kind's type, as it did
-- before. They are not backfilled here: a copy of the unique key formats in SQL could
-- drift from the types', and the relay's fallback is needed for the rolling deploy anyway.

ALTER TABLE outbox
    ADD COLUMN queue         TEXT    CHECK (length(queue) BETWEEN 1 AND 64),
    ADD COLUMN unique_key    TEXT,
    ADD COLUMN max_attempts  INTEGER CHECK (max_attempts >= 1),
    ADD COLUMN unique_for_ms BIGINT  CHECK (unique_for_ms >= 0),
    -- All of them or none: a row is either written with its parts or by an older release.
    ADD CONSTRAINT outbox_parts_together CHECK (
        (queue IS NULL) = (max_attempts IS NULL)
        AND (queue IS NULL) = (unique_for_ms IS NULL)
        AND (queue IS NOT NULL OR unique_key IS NULL)
    );
