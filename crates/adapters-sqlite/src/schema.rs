//! Diesel's view of `migrations/sqlite`, written by hand to match it.
//!
//! Identifiers are `Text` (lowercase hyphenated UUIDs), times `BigInt`
//! (Unix seconds) and digests `Binary`; the readers parse every value back
//! into a domain type and treat one that does not parse as absent or revoked.

diesel::table! {
    tenants (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    memberships (user_id, tenant_id) {
        user_id -> Text,
        tenant_id -> Text,
        status -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> Text,
        secret -> Binary,
        last_step -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    email_factors (user_id) {
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    backup_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Binary,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    flow_tickets (token_hash) {
        token_hash -> Binary,
        user_id -> Nullable<Text>,
        email -> Text,
        attempts -> BigInt,
        consumed_at -> Nullable<BigInt>,
        expires_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Binary,
        user_id -> Text,
        tenant_id -> Text,
        methods -> Text,
        failures -> BigInt,
        consumed_at -> Nullable<BigInt>,
        expires_at -> BigInt,
        created_at -> BigInt,
        email_code_hash -> Nullable<Binary>,
        email_sends -> BigInt,
        email_sent_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        tenant_id -> Text,
        amr -> Text,
        created_at -> BigInt,
        last_used_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Binary,
        session_id -> Text,
        successor_hash -> Nullable<Binary>,
        rotated_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    throttle_counters (key_hash) {
        key_hash -> Binary,
        failures -> BigInt,
        window_ends_at -> BigInt,
    }
}

diesel::table! {
    trusted_devices (token_hash) {
        token_hash -> Binary,
        user_id -> Text,
        expires_at -> BigInt,
        created_at -> BigInt,
    }
}

diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(memberships -> users (user_id));
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
