-- Personal access tokens: long-lived credentials for scripts, integrations and assistants.
-- Only the SHA-256 digest of the secret is kept (the secret is 256 random bits, so no slow
-- hash is needed). A deleted token keeps its row, marked `revoked_at`, so that its audit
-- entries still name something and a node can tell "revoked" from "never existed".
CREATE TABLE personal_access_tokens (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    scopes       text[]      NOT NULL CHECK (scopes IN ('{read}', '{read,write}')),
    digest       bytea       NOT NULL UNIQUE CHECK (octet_length(digest) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- The owner's listing (newest first) and the live-token count.
CREATE INDEX personal_access_tokens_user_idx
    ON personal_access_tokens (user_id, id)
    WHERE revoked_at IS NULL;
