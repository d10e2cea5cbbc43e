-- Fixture rows for `just fuzz-api`: one campaign with leads and contents in every state, so
-- ids in the fuzzed paths sometimes exist. Runs only when the account has no campaign yet.
-- psql -v email=... -f scripts/fuzz-seed.sql

\set ON_ERROR_STOP on

BEGIN;

WITH owner AS (
    SELECT id FROM users WHERE lower(email) = lower(:'email')
), campaign AS (
    INSERT INTO campaigns (user_id, name, industry, location, status, leads_count,
                           contents_count, published_count, launched_at, completed_at)
    SELECT id, 'Lyon bakeries', 'bakery', 'Lyon', 'ready', 4, 4, 1,
           now() - interval '2 hours', NULL
    FROM owner
    WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.user_id = owner.id)
    RETURNING id, user_id
), leads_in AS (
    INSERT INTO leads (campaign_id, place_id, business_name, address, city, province,
                       postal_code, phone, email, website, rating, review_count, lead_score,
                       score_breakdown, enriched_at)
    SELECT campaign.id, l.place_id, l.name, l.address, 'Lyon', 'Auvergne-Rhône-Alpes', l.postal,
           l.phone, l.email, l.website, l.rating, l.reviews, l.score,
           jsonb_build_object('website', 30, 'contact', l.score - 40, 'reviews', 10),
           now() - interval '1 hour'
    FROM campaign, (VALUES
        ('demo-place-1', 'Boulangerie du Parc', '12 rue du Parc', '69006', '+33 4 78 00 00 01',
         'contact@boulangerie-du-parc.example', 'https://boulangerie-du-parc.example', 4.7, 312, 86),
        ('demo-place-2', 'Le Fournil Croix-Rousse', '3 place de la Croix-Rousse', '69004', '+33 4 78 00 00 02',
         NULL, 'https://fournil-croix-rousse.example', 4.4, 128, 71),
        ('demo-place-3', 'Pains & Co', '45 cours Gambetta', '69007', '+33 4 78 00 00 03',
         'bonjour@pains-co.example', NULL, 4.1, 57, 58),
        ('demo-place-4', 'Maison Brioche', '8 quai Saint-Antoine', '69002', NULL,
         NULL, 'https://maison-brioche.example', 4.9, 1024, 92)
    ) AS l(place_id, name, address, postal, phone, email, website, rating, reviews, score)
    RETURNING id, campaign_id, place_id, business_name
), contents_in AS (
    INSERT INTO contents (lead_id, campaign_id, user_id, text, hashtags, quality_score,
                          score_breakdown, status, approved_at)
    SELECT leads_in.id, leads_in.campaign_id, campaign.user_id,
           'Fresh from the oven at ' || leads_in.business_name
             || ': sourdough that Lyon queues for every morning. Here is what makes it special.',
           ARRAY['Lyon', 'bakery', 'sourdough'],
           c.score, jsonb_build_object('clarity', c.score / 3, 'tone', c.score / 3, 'length', c.score - 2 * (c.score / 3)),
           c.status, CASE WHEN c.status IN ('approved', 'published') THEN now() - interval '30 minutes' END
    FROM leads_in JOIN campaign ON campaign.id = leads_in.campaign_id
    JOIN (VALUES ('demo-place-1', 88, 'published'), ('demo-place-2', 74, 'approved'),
                 ('demo-place-3', 55, 'pending'), ('demo-place-4', 63, 'pending'))
         AS c(place_id, score, status) ON c.place_id = leads_in.place_id
    RETURNING id, user_id, status
)
INSERT INTO publications (content_id, user_id, state, post_urn, post_url, likes, comments,
                          shares, impressions, published_at, last_synced_at)
SELECT id, user_id, 'published', 'urn:li:share:7000000000000000001',
       'https://www.linkedin.com/feed/update/urn:li:share:7000000000000000001/',
       42, 7, 3, 1830, now() - interval '25 minutes', now() - interval '5 minutes'
FROM contents_in WHERE status = 'published';

COMMIT;
