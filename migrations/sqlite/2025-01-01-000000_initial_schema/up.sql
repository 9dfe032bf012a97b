-- The schema of the embedded store: the tables, columns, constraint and
-- index names of migrations/postgres (same version, same name), in SQLite's
-- types. UUIDs are TEXT in lowercase hyphenated form, times INTEGER seconds
-- since the Unix epoch, digests 32-byte BLOBs. STRICT tables refuse a value
-- of the wrong type instead of silently storing it, so a bug cannot write a
-- row that readers would misparse. SQLite reports no constraint name for a
-- unique violation, so the store maps `table.column` from the message.

CREATE TABLE tenants (
    id TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug)
) STRICT;

CREATE TABLE users (
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_disabled_check CHECK (disabled IN (0, 1))
) STRICT;

-- Readers map an unknown status to suspended; the check keeps one from
-- being written in the first place.
CREATE TABLE memberships (
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, tenant_id),
    CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id),
    CONSTRAINT memberships_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id),
    CONSTRAINT memberships_status_check CHECK (status IN ('active', 'suspended'))
) STRICT;

CREATE INDEX memberships_tenant_id_idx ON memberships (tenant_id);

-- last_step is the RFC 6238 time step of the last accepted code; a code is
-- accepted only for a later step, so none works twice.
CREATE TABLE totp_factors (
    user_id TEXT NOT NULL,
    secret BLOB NOT NULL,
    last_step INTEGER,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT totp_factors_pkey PRIMARY KEY (user_id),
    CONSTRAINT totp_factors_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id)
) STRICT;

-- The email factor has no secret of its own: a row means it is enrolled.
CREATE TABLE email_factors (
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT email_factors_pkey PRIMARY KEY (user_id),
    CONSTRAINT email_factors_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id)
) STRICT;

CREATE TABLE backup_codes (
    user_id TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    used_at INTEGER,
    CONSTRAINT backup_codes_pkey PRIMARY KEY (user_id, code_hash),
    CONSTRAINT backup_codes_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id),
    CONSTRAINT backup_codes_code_hash_length CHECK (length(code_hash) = 32)
) STRICT;

-- user_id is null for a flow opened for an unknown email, which gets a
-- ticket too so that the two cases look alike from outside.
CREATE TABLE flow_tickets (
    token_hash BLOB NOT NULL,
    user_id TEXT,
    email TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    consumed_at INTEGER,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT flow_tickets_pkey PRIMARY KEY (token_hash),
    CONSTRAINT flow_tickets_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id),
    CONSTRAINT flow_tickets_token_hash_length CHECK (length(token_hash) = 32),
    CONSTRAINT flow_tickets_attempts_check CHECK (attempts >= 0)
) STRICT;

CREATE INDEX flow_tickets_user_id_idx ON flow_tickets (user_id);

-- methods lists the offered MfaMethod names, space-separated, in offer order.
CREATE TABLE mfa_challenges (
    token_hash BLOB NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    methods TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    consumed_at INTEGER,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    CONSTRAINT mfa_challenges_pkey PRIMARY KEY (token_hash),
    CONSTRAINT mfa_challenges_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id),
    CONSTRAINT mfa_challenges_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id),
    CONSTRAINT mfa_challenges_token_hash_length CHECK (length(token_hash) = 32),
    CONSTRAINT mfa_challenges_failures_check CHECK (failures >= 0)
) STRICT;

CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_tenant_id_idx ON mfa_challenges (tenant_id);

-- amr is Amr::as_stored, RFC 8176 values space-separated. It has no check
-- constraint, as on PostgreSQL, so a later value needs no table rebuild;
-- a value the service does not know makes the session read as revoked.
CREATE TABLE sessions (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id),
    CONSTRAINT sessions_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id)
) STRICT;

CREATE INDEX sessions_user_id_tenant_id_idx ON sessions (user_id, tenant_id);
CREATE INDEX sessions_tenant_id_idx ON sessions (tenant_id);

-- A token is active while rotated_at is null. Rotation sets rotated_at and
-- successor_hash together and inserts the successor as a new active row, so
-- the chain of a session can be followed from any of its tokens.
CREATE TABLE refresh_tokens (
    token_hash BLOB NOT NULL,
    session_id TEXT NOT NULL,
    successor_hash BLOB,
    rotated_at INTEGER,
    created_at INTEGER NOT NULL,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id),
    -- Deferred to the commit: a rotation marks the presented token before
    -- it inserts the successor, so that the conditional update decides first.
    CONSTRAINT refresh_tokens_successor_hash_fkey FOREIGN KEY (successor_hash)
        REFERENCES refresh_tokens (token_hash) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT refresh_tokens_token_hash_length CHECK (length(token_hash) = 32),
    CONSTRAINT refresh_tokens_rotation_check
        CHECK ((rotated_at IS NULL) = (successor_hash IS NULL))
) STRICT;

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_successor_hash_idx ON refresh_tokens (successor_hash);
