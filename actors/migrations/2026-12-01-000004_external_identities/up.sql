-- Accounts of an external identity provider (OpenID Connect): the provider's issuer and the
-- subject it names a person by map to one local user, created on first sight. The pair is
-- the identity: an email the provider sends is never used to find an existing account.
CREATE TABLE external_identities (
    issuer     text        NOT NULL CHECK (char_length(issuer) BETWEEN 1 AND 2048),
    subject    text        NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 1024),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX external_identities_user_idx ON external_identities (user_id);
