-- Abuse guards: failed-attempt throttling shared by every node, trusted
-- devices, and the email code of an MFA challenge.
--
-- Forward-only, like every migration here. Constraints are named for the
-- same reason as in the initial schema: the store maps names to errors.

-- One row per throttle key (a SHA-256 digest of `email:<email>` or
-- `address:<ip>`, never the value itself), counting failures in a fixed
-- window that starts at the first failure. A row whose window has ended
-- reads as zero failures; the next failure restarts it in place.
CREATE TABLE throttle_counters (
    key_hash        bytea       NOT NULL,
    failures        integer     NOT NULL,
    window_ends_at  timestamptz NOT NULL,
    CONSTRAINT throttle_counters_pkey PRIMARY KEY (key_hash),
    CONSTRAINT throttle_counters_key_hash_length CHECK (octet_length(key_hash) = 32),
    -- A row exists only once a failure was counted.
    CONSTRAINT throttle_counters_failures_check CHECK (failures > 0)
);

-- Device tokens, by digest, that skip the second factor for one user.
CREATE TABLE trusted_devices (
    token_hash  bytea       NOT NULL,
    user_id     uuid        NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trusted_devices_pkey PRIMARY KEY (token_hash),
    -- A trust is worthless without its user, so it goes with the user.
    CONSTRAINT trusted_devices_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT trusted_devices_token_hash_length CHECK (octet_length(token_hash) = 32)
);
-- forget_devices deletes by user, and the cascade looks rows up by user.
CREATE INDEX trusted_devices_user_id_idx ON trusted_devices (user_id);

-- The current email code of a challenge (its digest) and the send count.
-- One statement sets all three together, so they are null/zero together.
-- One ALTER TABLE, so the table is locked and checked once; the defaults
-- are constants, so existing rows are not rewritten.
ALTER TABLE mfa_challenges
    ADD COLUMN email_code_hash  bytea,
    ADD COLUMN email_sends      integer     NOT NULL DEFAULT 0,
    ADD COLUMN email_sent_at    timestamptz,
    ADD CONSTRAINT mfa_challenges_email_code_hash_length
        CHECK (octet_length(email_code_hash) = 32),
    ADD CONSTRAINT mfa_challenges_email_sends_check CHECK (email_sends >= 0),
    ADD CONSTRAINT mfa_challenges_email_code_check
        CHECK ((email_code_hash IS NULL) = (email_sent_at IS NULL)
           AND (email_sent_at IS NULL) = (email_sends = 0));
