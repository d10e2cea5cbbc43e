-- The slot of the last PublishPost written to the outbox for this content (NULL: none yet,
-- as when the content was placed while LinkedIn was not connected). A reflow (a saved
-- schedule, a reconnect) writes a job only for a content whose slot is not this one: the
-- job of an unchanged slot already waits for it, and writing it again would only meet
-- that job in the queue and keep the row in the outbox until the slot.
ALTER TABLE contents ADD COLUMN publish_queued_slot TIMESTAMPTZ;

-- Contents placed before this column had their job written when LinkedIn was ready: taken
-- as so for owners who can publish now. The others stay NULL, and their reconnect writes
-- their jobs as it did before.
UPDATE contents c SET publish_queued_slot = c.scheduled_at
    FROM user_profiles pr
    WHERE pr.user_id = c.user_id AND c.status = 'approved' AND c.scheduled_at IS NOT NULL
      AND pr.linkedin_connected AND NOT pr.linkedin_reconnect_needed;
