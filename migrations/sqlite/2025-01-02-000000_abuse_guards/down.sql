-- Migrations are forward-only: a release never rolls its schema back. This
-- script exists for a developer's local reset. SQLite drops a column only
-- when no check of another column names it, so email_sent_at, which holds
-- the check across the three, goes first, and its constraints with it.
ALTER TABLE mfa_challenges DROP COLUMN email_sent_at;
ALTER TABLE mfa_challenges DROP COLUMN email_sends;
ALTER TABLE mfa_challenges DROP COLUMN email_code_hash;
DROP INDEX trusted_devices_user_id_idx;
DROP TABLE trusted_devices;
DROP TABLE throttle_counters;
