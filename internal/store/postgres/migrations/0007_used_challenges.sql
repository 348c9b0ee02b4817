-- Sign-in challenges (the sealed "password done, code pending" token)
-- that completed a sign-in: a challenge works once. Only a hash of the
-- challenge's random id is kept, until the challenge would have expired
-- anyway; expired rows are deleted whenever one is added, so the table
-- holds at most the sign-ins of one challenge lifetime (5 minutes).
CREATE TABLE used_challenges (
    id_hash    BYTEA   PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX used_challenges_expiry ON used_challenges (expires_at);
