//! [`ThrottleRepository`] on PostgreSQL.
//!
//! Counting is one `INSERT … ON CONFLICT DO UPDATE`: PostgreSQL either
//! inserts the key or, having lost the race to insert it, locks the row
//! and updates it, so concurrent failures are all counted and a window is
//! restarted at most once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use portal_auth_domain::{Timestamp, TokenHash};
use portal_auth_ports::{StoreResult, ThrottleRepository, ThrottleState};

use crate::PostgresStore;
use crate::convert::{counter, from_db_time, hash_bytes, to_db_time};
use crate::error::query_error;
use crate::schema::throttle_counters::dsl::{
    failures, key_hash, throttle_counters, window_ends_at,
};

fn state((count, ends_at): (i32, DateTime<Utc>)) -> ThrottleState {
    ThrottleState {
        failures: counter(count),
        window_ends_at: from_db_time(ends_at),
    }
}

#[async_trait]
impl ThrottleRepository for PostgresStore {
    async fn record_failure(
        &self,
        key: &TokenHash,
        now: Timestamp,
        window_secs: u64,
    ) -> StoreResult<ThrottleState> {
        let fresh_end = to_db_time(now + window_secs)?;
        let now = to_db_time(now)?;
        // A window is inclusive of its start and exclusive of its end (the
        // domain's `has_passed`): a failure at `window_ends_at` opens a new
        // one. Both CASEs read the row as it was before this update.
        let ended = window_ends_at.le(now);
        let mut conn = self.conn().await?;
        let row = diesel::insert_into(throttle_counters)
            .values((
                key_hash.eq(hash_bytes(key)),
                failures.eq(1),
                window_ends_at.eq(fresh_end),
            ))
            .on_conflict(key_hash)
            .do_update()
            .set((
                failures.eq(case_when(ended, 1.into_sql::<Integer>()).otherwise(failures + 1)),
                window_ends_at
                    .eq(case_when(ended, excluded(window_ends_at)).otherwise(window_ends_at)),
            ))
            .returning((failures, window_ends_at))
            .get_result(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(state(row))
    }

    async fn throttle_state(&self, key: &TokenHash, now: Timestamp) -> StoreResult<ThrottleState> {
        let at = to_db_time(now)?;
        let mut conn = self.conn().await?;
        let row: Option<(i32, DateTime<Utc>)> = throttle_counters
            .find(hash_bytes(key))
            .filter(window_ends_at.gt(at))
            .select((failures, window_ends_at))
            .first(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        Ok(row.map_or(
            ThrottleState {
                failures: 0,
                window_ends_at: now,
            },
            state,
        ))
    }

    async fn clear_failures(&self, key: &TokenHash) -> StoreResult<()> {
        let mut conn = self.conn().await?;
        diesel::delete(throttle_counters.find(hash_bytes(key)))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }
}
