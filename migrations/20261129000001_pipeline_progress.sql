-- What the pipeline's handlers need to make every step idempotent and every campaign
-- finish: a stage per lead, a generating state per content, counters for the campaign's
-- progress, the exact-once bookkeeping of a publication, and the reconciler's clock.

-- A lead's way through the pipeline: found (scraped) → enriched → generated (its content
-- exists), or failed with the reason. A campaign is `ready` when no lead is on its way.
ALTER TABLE leads
    ADD COLUMN stage      TEXT NOT NULL DEFAULT 'found'
                          CHECK (stage IN ('found', 'enriched', 'generated', 'failed')),
    ADD COLUMN error      TEXT,
    -- When the lead last moved; the reconciler re-enqueues leads that stopped moving.
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- The reconciler's scan: leads still on their way, oldest move first.
CREATE INDEX leads_in_flight_idx ON leads (updated_at) WHERE stage IN ('found', 'enriched');

ALTER TABLE campaigns
    ADD COLUMN enriched_count INTEGER NOT NULL DEFAULT 0 CHECK (enriched_count >= 0),
    -- Leads that ended without a content (the reason is in the lead and in error_details).
    ADD COLUMN failed_count   INTEGER NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    ADD COLUMN updated_at     TIMESTAMPTZ NOT NULL DEFAULT now();

CREATE INDEX campaigns_in_flight_idx ON campaigns (updated_at)
    WHERE status IN ('scraping', 'enriching', 'generating', 'ready');

-- 'generating': the post text is saved (paid once), the image is not stored yet. Such a
-- content is not shown for approval.
ALTER TABLE contents DROP CONSTRAINT contents_status_check;
ALTER TABLE contents ADD CONSTRAINT contents_status_check
    CHECK (status IN ('generating', 'pending', 'approved', 'rejected', 'published', 'failed'));
ALTER TABLE contents
    ADD COLUMN image_prompt TEXT,
    ADD COLUMN error        TEXT;

CREATE INDEX contents_approved_idx ON contents (updated_at) WHERE status = 'approved';

ALTER TABLE publications
    -- The commentary exactly as sent: a retry after an unknown outcome must send the
    -- identical text, so that LinkedIn's duplicate check answers with the first post.
    ADD COLUMN commentary      TEXT,
    -- POSTs whose outcome nobody knows (sent, then a timeout or a 5xx). One identical
    -- retry is safe (a duplicate is refused with the first URN); past it, a human decides.
    ADD COLUMN uncertain_sends SMALLINT NOT NULL DEFAULT 0 CHECK (uncertain_sends >= 0),
    ADD COLUMN updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN resolved_by     TEXT CHECK (resolved_by IN ('owner_marked', 'owner_republished'));

CREATE INDEX publications_state_idx ON publications (user_id, state, id DESC);
CREATE INDEX publications_sync_idx ON publications (published_at) WHERE state = 'published';
