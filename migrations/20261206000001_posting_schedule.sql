-- The owner's publishing schedule: approved posts go out in her slots (days of the week and
-- times of day in her time zone), at most `per_day` a day, instead of all at once. A user
-- without a row has the default schedule (Europe/Paris, Tuesday to Thursday, 9:00 and
-- 14:00, two a day).
CREATE TABLE posting_schedules (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- IANA name (Europe/Paris); checked by the application against the tz database.
    time_zone  TEXT     NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    -- ISO weekdays, 1 = Monday … 7 = Sunday.
    days       SMALLINT[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 7
                                          AND 1 <= ALL (days) AND 7 >= ALL (days)),
    -- Minutes after local midnight, sorted.
    times      SMALLINT[] NOT NULL CHECK (cardinality(times) BETWEEN 1 AND 24
                                          AND 0 <= ALL (times) AND 1439 >= ALL (times)),
    -- LinkedIn's own limit (100 posts a day per member) is the hard cap.
    per_day    SMALLINT NOT NULL CHECK (per_day BETWEEN 1 AND 100),
    -- Publish as soon as approved, without slots (the pipeline benchmark's mode).
    immediate  BOOLEAN  NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- When an approved content goes out: its slot. NULL on an approved content means the owner
-- took it out of the schedule; it waits until she puts it back.
ALTER TABLE contents ADD COLUMN scheduled_at TIMESTAMPTZ;

-- Contents approved before schedules existed publish as before: now.
UPDATE contents SET scheduled_at = COALESCE(approved_at, now())
    WHERE status IN ('approved', 'published');

CREATE INDEX contents_schedule_idx ON contents (user_id, scheduled_at)
    WHERE status IN ('approved', 'published') AND scheduled_at IS NOT NULL;
