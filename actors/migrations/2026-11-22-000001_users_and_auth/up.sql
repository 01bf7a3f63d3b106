-- Users and the refresh tokens that keep them signed in.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    password_hash text        NOT NULL,
    display_name  text        NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 100),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Emails are unique whatever their case: "Ann@x.io" and "ann@x.io" are one account.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- A refresh token is stored only as a hash. Tokens rotated from one login share a family, so
-- the reuse of a spent token can revoke the whole chain at once.
CREATE TABLE refresh_tokens (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
