-- One LinkedIn post belongs to one publication. LinkedIn answers a second identical post
-- (same author, same text) with the first one's URN (DUPLICATE_POST); for a retry of the
-- same content that URN is ours, but two different contents with the same text must not
-- both claim one post.
CREATE UNIQUE INDEX publications_post_urn_key ON publications (post_urn) WHERE post_urn IS NOT NULL;
