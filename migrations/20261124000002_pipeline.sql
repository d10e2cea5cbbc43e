-- The pipeline's business truth: campaigns, their leads, the contents written for them and
-- what was published. Jobs carry these ids; handlers load the rows.

CREATE TABLE campaigns (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    industry        TEXT        NOT NULL CHECK (length(industry) BETWEEN 1 AND 100),
    location        TEXT        NOT NULL CHECK (length(location) BETWEEN 1 AND 120),
    status          TEXT        NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'scraping', 'enriching', 'generating', 'ready',
                                      'completed', 'error', 'cancelled')),
    leads_count     INTEGER     NOT NULL DEFAULT 0 CHECK (leads_count >= 0),
    contents_count  INTEGER     NOT NULL DEFAULT 0 CHECK (contents_count >= 0),
    published_count INTEGER     NOT NULL DEFAULT 0 CHECK (published_count >= 0),
    error_details   JSONB,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    launched_at     TIMESTAMPTZ,
    completed_at    TIMESTAMPTZ,
    -- Lets contents reference (campaign, owner) together, so a content can never belong to
    -- one user while its campaign belongs to another.
    UNIQUE (id, user_id)
);

-- The campaign list: a user's campaigns, newest first.
CREATE INDEX campaigns_user_id_idx ON campaigns (user_id, id DESC);

CREATE TABLE leads (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    place_id        TEXT        NOT NULL CHECK (length(place_id) BETWEEN 1 AND 300),
    business_name   TEXT        NOT NULL,
    address         TEXT,
    city            TEXT,
    province        TEXT,
    postal_code     TEXT,
    phone           TEXT,
    email           TEXT,
    website         TEXT,
    rating          DOUBLE PRECISION CHECK (rating BETWEEN 0 AND 5),
    review_count    INTEGER CHECK (review_count >= 0),
    lead_score      SMALLINT CHECK (lead_score BETWEEN 0 AND 100),
    score_breakdown JSONB,
    raw_data        JSONB       NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set once (UPDATE ... WHERE enriched_at IS NULL): a re-delivered EnrichLead does nothing.
    enriched_at     TIMESTAMPTZ,
    -- A retried ScrapeCampaign inserts nothing twice.
    UNIQUE (campaign_id, place_id)
);

-- A campaign's leads in the order they were found.
CREATE INDEX leads_campaign_id_idx ON leads (campaign_id, id);

CREATE TABLE contents (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One content per lead: a re-delivered GenerateContent finds it and pays nothing twice.
    lead_id         BIGINT      NOT NULL UNIQUE REFERENCES leads (id) ON DELETE CASCADE,
    campaign_id     BIGINT      NOT NULL,
    user_id         BIGINT      NOT NULL,
    text            TEXT        NOT NULL CHECK (length(text) BETWEEN 1 AND 3000),
    image_key       TEXT,
    hashtags        TEXT[]      NOT NULL DEFAULT '{}',
    quality_score   SMALLINT    NOT NULL CHECK (quality_score BETWEEN 0 AND 100),
    score_breakdown JSONB       NOT NULL DEFAULT '{}',
    status          TEXT        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'rejected', 'published', 'failed')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    approved_at     TIMESTAMPTZ,
    FOREIGN KEY (campaign_id, user_id) REFERENCES campaigns (id, user_id) ON DELETE CASCADE
);

-- The gallery: a user's contents newest first, optionally by status (pending is the
-- approval queue) or by campaign.
CREATE INDEX contents_user_id_idx ON contents (user_id, id DESC);
CREATE INDEX contents_user_status_idx ON contents (user_id, status, id DESC);
CREATE INDEX contents_campaign_id_idx ON contents (campaign_id, id DESC);

CREATE TABLE publications (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Exactly once: the row is written as 'publishing' before the POST, so a retry finds it.
    content_id     BIGINT      NOT NULL UNIQUE REFERENCES contents (id) ON DELETE CASCADE,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform       TEXT        NOT NULL DEFAULT 'linkedin' CHECK (platform IN ('linkedin')),
    -- 'unknown': the POST may or may not have created a post (a timeout); a human decides,
    -- never a blind second post.
    state          TEXT        NOT NULL DEFAULT 'publishing'
                   CHECK (state IN ('publishing', 'published', 'unknown', 'failed')),
    image_urn      TEXT,
    post_urn       TEXT,
    post_url       TEXT,
    error          TEXT,
    likes          INTEGER     NOT NULL DEFAULT 0 CHECK (likes >= 0),
    comments       INTEGER     NOT NULL DEFAULT 0 CHECK (comments >= 0),
    shares         INTEGER     NOT NULL DEFAULT 0 CHECK (shares >= 0),
    impressions    INTEGER     NOT NULL DEFAULT 0 CHECK (impressions >= 0),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at   TIMESTAMPTZ,
    last_synced_at TIMESTAMPTZ,
    CHECK (state <> 'published' OR (post_urn IS NOT NULL AND published_at IS NOT NULL))
);

-- The user's publications and the engagement metric.
CREATE INDEX publications_user_id_idx ON publications (user_id, id DESC);
