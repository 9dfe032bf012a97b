-- Migrations are forward-only: a release never rolls its schema back. This
-- script exists for a developer's local reset and drops everything.
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE mfa_challenges;
DROP TABLE flow_tickets;
DROP TABLE backup_codes;
DROP TABLE email_factors;
DROP TABLE totp_factors;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE tenants;
