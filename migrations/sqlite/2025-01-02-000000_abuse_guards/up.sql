-- The abuse guards: failed-attempt counters, trusted devices, and the email
-- code of an MFA challenge. Same version, name, tables, columns, constraint
-- and index names as migrations/postgres, in SQLite's types. Forward-only:
-- the initial migration is never edited, later ones only add.

-- One row per throttle key, a digest of `email:<normalised email>` or
-- `address:<ip>`, so no address typed by a client is stored. The window is
-- fixed: it starts at a key's first failure and window_ends_at is its end;
-- a failure at or after that end starts a new window with a count of 1.
CREATE TABLE throttle_counters (
    key_hash BLOB NOT NULL,
    failures INTEGER NOT NULL,
    window_ends_at INTEGER NOT NULL,
    CONSTRAINT throttle_counters_pkey PRIMARY KEY (key_hash),
    CONSTRAINT throttle_counters_key_hash_length CHECK (length(key_hash) = 32),
    -- A row exists only once a failure was counted.
    CONSTRAINT throttle_counters_failures_check CHECK (failures > 0)
) STRICT;

-- A device token (by digest) that skips the second factor for its user
-- only, until expires_at. A trust is worthless without its user, so it
-- goes with the user.
CREATE TABLE trusted_devices (
    token_hash BLOB NOT NULL,
    user_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT trusted_devices_pkey PRIMARY KEY (token_hash),
    CONSTRAINT trusted_devices_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT trusted_devices_token_hash_length CHECK (length(token_hash) = 32)
) STRICT;

-- forget_devices deletes by user, and the cascade looks rows up by user.
CREATE INDEX trusted_devices_user_id_idx ON trusted_devices (user_id);

-- The digest of the challenge's current email code (null until one is
-- sent), how many codes were sent, and when the last one was, so sends can
-- be spaced and capped by one conditional update. That update sets all
-- three together, so they are null/zero together, which the last check
-- holds. SQLite adds a column with column constraints only, so each is
-- named on its column, and the check across all three goes on the last
-- one, once the other two exist. Existing rows get the defaults, which
-- pass every check.
ALTER TABLE mfa_challenges ADD COLUMN email_code_hash BLOB
    CONSTRAINT mfa_challenges_email_code_hash_length
        CHECK (length(email_code_hash) = 32);
ALTER TABLE mfa_challenges ADD COLUMN email_sends INTEGER NOT NULL DEFAULT 0
    CONSTRAINT mfa_challenges_email_sends_check CHECK (email_sends >= 0);
ALTER TABLE mfa_challenges ADD COLUMN email_sent_at INTEGER
    CONSTRAINT mfa_challenges_email_code_check
        CHECK ((email_code_hash IS NULL) = (email_sent_at IS NULL)
           AND (email_sent_at IS NULL) = (email_sends = 0));
