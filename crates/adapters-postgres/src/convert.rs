//! Conversions between domain values and column values.

use chrono::{DateTime, Utc};
use portal_auth_domain::{Tenant, TenantId, TenantName, TenantSlug, Timestamp, TokenHash};
use portal_auth_ports::StoreError;
use uuid::Uuid;

use crate::error::damaged;

/// A point in time as `timestamptz`.
///
/// # Errors
///
/// [`StoreError::Unavailable`] for a time outside what PostgreSQL and
/// chrono can hold (hundreds of thousands of years away), which only a
/// misconfigured lifetime can produce.
pub(crate) fn to_db_time(time: Timestamp) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(time.unix(), 0)
        .ok_or_else(|| StoreError::Unavailable(format!("time out of range: {}", time.unix())))
}

/// Sub-second parts cannot occur (every write is whole seconds) and would
/// be dropped.
pub(crate) fn from_db_time(time: DateTime<Utc>) -> Timestamp {
    Timestamp::from_unix(time.timestamp())
}

/// The time `secs` before `time`, saturating, for "at least this long
/// ago" conditions; an absurd interval lands out of range and
/// [`to_db_time`] refuses it.
pub(crate) fn seconds_before(time: Timestamp, secs: u64) -> Timestamp {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    Timestamp::from_unix(time.unix().saturating_sub(secs))
}

pub(crate) fn hash_bytes(hash: &TokenHash) -> Vec<u8> {
    hash.as_bytes().to_vec()
}

/// A stored counter. A negative one (ruled out by a check constraint) reads
/// as exhausted rather than as fresh.
pub(crate) fn counter(stored: i32) -> u32 {
    u32::try_from(stored).unwrap_or(u32::MAX)
}

/// The columns of a tenant, in the order queries select them.
pub(crate) type TenantRow = (Uuid, String, String);

pub(crate) fn tenant((id, slug, name): TenantRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::from_uuid(id),
        slug: TenantSlug::parse(&slug).map_err(|_| damaged("tenant slug"))?,
        name: TenantName::parse(&name).map_err(|_| damaged("tenant name"))?,
    })
}
