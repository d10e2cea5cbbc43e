-- A scrape keeps its place in Places' paging: each page's leads are stored as the page
-- arrives, with the count of pages read and the token of the next one. A scrape that has
-- to wait (a rate limit, a provider's delay) resumes at the next page instead of paying
-- for the first ones again.
ALTER TABLE campaigns
    ADD COLUMN scrape_pages SMALLINT NOT NULL DEFAULT 0,
    ADD COLUMN scrape_page_token TEXT;
