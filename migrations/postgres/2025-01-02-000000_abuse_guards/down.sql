-- Migrations are forward-only in production; this exists so a developer can
-- rebuild a scratch database with `diesel migration redo`. Dropping the
-- columns drops their constraints with them.
ALTER TABLE mfa_challenges
    DROP COLUMN email_sent_at,
    DROP COLUMN email_sends,
    DROP COLUMN email_code_hash;
DROP TABLE trusted_devices;
DROP TABLE throttle_counters;
