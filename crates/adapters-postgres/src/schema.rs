//! Diesel's view of the tables in `migrations/postgres`. Kept by hand in
//! step with the migrations; the contract suite fails when they drift.

diesel::table! {
    tenants (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (user_id, tenant_id) {
        user_id -> Uuid,
        tenant_id -> Uuid,
        status -> Text,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Uuid,
        secret -> Bytea,
        last_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    email_factors (user_id) {
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    backup_codes (user_id, code_hash) {
        user_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    flow_tickets (token_hash) {
        token_hash -> Bytea,
        user_id -> Nullable<Uuid>,
        email -> Text,
        attempts -> Int4,
        consumed_at -> Nullable<Timestamptz>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        tenant_id -> Uuid,
        methods -> Text,
        failures -> Int4,
        consumed_at -> Nullable<Timestamptz>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        email_code_hash -> Nullable<Bytea>,
        email_sends -> Int4,
        email_sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        tenant_id -> Uuid,
        amr -> Text,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        successor_hash -> Nullable<Bytea>,
        rotated_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    throttle_counters (key_hash) {
        key_hash -> Bytea,
        failures -> Int4,
        window_ends_at -> Timestamptz,
    }
}

diesel::table! {
    trusted_devices (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(trusted_devices -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    memberships,
    totp_factors,
    email_factors,
    backup_codes,
    flow_tickets,
    mfa_challenges,
    sessions,
    refresh_tokens,
    throttle_counters,
    trusted_devices,
);
