-- Migrations are forward-only in production; this exists so a developer can
-- rebuild a scratch database with `diesel migration redo`.
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
