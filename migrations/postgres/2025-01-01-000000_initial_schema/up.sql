-- The whole schema of Portal Auth on PostgreSQL.
--
-- Every constraint is named, because the store maps constraint names to
-- errors a caller can act on (a taken slug, a taken email). Tokens are kept
-- only as SHA-256 digests (32 bytes); a read of this database yields no
-- usable token. Times are timestamptz at whole-second precision.

CREATE TABLE tenants (
    id          uuid        NOT NULL,
    slug        text        NOT NULL,
    -- Binary collation: memberships are listed by name in code-point order
    -- on every store, whatever the server's locale.
    name        text        COLLATE "C" NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug)
);

CREATE TABLE users (
    id             uuid        NOT NULL,
    -- Normalised by the domain before it gets here, so a plain unique
    -- constraint is the uniqueness rule.
    email          text        NOT NULL,
    password_hash  text        NOT NULL,
    disabled       boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE memberships (
    user_id    uuid NOT NULL,
    tenant_id  uuid NOT NULL,
    status     text NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, tenant_id),
    CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT memberships_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT memberships_status_check CHECK (status IN ('active', 'suspended'))
);
CREATE INDEX memberships_tenant_id_idx ON memberships (tenant_id);

CREATE TABLE totp_factors (
    user_id     uuid        NOT NULL,
    secret      bytea       NOT NULL,
    -- The last RFC 6238 time step a code was accepted for (RFC 6238 §5.2).
    last_step   bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT totp_factors_pkey PRIMARY KEY (user_id),
    CONSTRAINT totp_factors_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE email_factors (
    user_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT email_factors_pkey PRIMARY KEY (user_id),
    CONSTRAINT email_factors_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE backup_codes (
    user_id    uuid        NOT NULL,
    code_hash  bytea       NOT NULL,
    used_at    timestamptz,
    CONSTRAINT backup_codes_pkey PRIMARY KEY (user_id, code_hash),
    CONSTRAINT backup_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT backup_codes_code_hash_length CHECK (octet_length(code_hash) = 32)
);

CREATE TABLE flow_tickets (
    token_hash   bytea       NOT NULL,
    -- Null when the email named no user: unknown emails get a ticket too.
    user_id      uuid,
    email        text        NOT NULL,
    attempts     integer     NOT NULL DEFAULT 0,
    consumed_at  timestamptz,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT flow_tickets_pkey PRIMARY KEY (token_hash),
    CONSTRAINT flow_tickets_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT flow_tickets_token_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT flow_tickets_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX flow_tickets_user_id_idx ON flow_tickets (user_id);

CREATE TABLE mfa_challenges (
    token_hash   bytea       NOT NULL,
    user_id      uuid        NOT NULL,
    tenant_id    uuid        NOT NULL,
    -- Offered methods, space-separated, in offer order.
    methods      text        NOT NULL,
    failures     integer     NOT NULL DEFAULT 0,
    consumed_at  timestamptz,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mfa_challenges_pkey PRIMARY KEY (token_hash),
    CONSTRAINT mfa_challenges_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT mfa_challenges_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT mfa_challenges_token_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT mfa_challenges_failures_check CHECK (failures >= 0)
);
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_tenant_id_idx ON mfa_challenges (tenant_id);

CREATE TABLE sessions (
    id            uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    -- RFC 8176 values, space-separated; anything unknown reads as revoked.
    amr           text        NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT sessions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)
);
CREATE INDEX sessions_user_id_tenant_id_idx ON sessions (user_id, tenant_id);
CREATE INDEX sessions_tenant_id_idx ON sessions (tenant_id);

CREATE TABLE refresh_tokens (
    token_hash      bytea       NOT NULL,
    session_id      uuid        NOT NULL,
    -- Set together with rotated_at, in the one statement that rotates.
    successor_hash  bytea,
    rotated_at      timestamptz,
    created_at      timestamptz NOT NULL,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions (id),
    -- Deferred: a rotation marks the presented token before it inserts the
    -- successor, so that the conditional update decides first.
    CONSTRAINT refresh_tokens_successor_hash_fkey FOREIGN KEY (successor_hash)
        REFERENCES refresh_tokens (token_hash) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT refresh_tokens_token_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_rotation_check
        CHECK ((rotated_at IS NULL) = (successor_hash IS NULL))
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_successor_hash_idx ON refresh_tokens (successor_hash);
