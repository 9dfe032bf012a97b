//! [`ThrottleRepository`] on SQLite: failed-attempt counters in fixed windows.
//!
//! Counting is one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement
//! that both restarts an ended window and adds the failure, so no second
//! call can slip between reading a count and writing the next one, and a
//! concurrent failure is never lost, even without the writer's lock.

use async_trait::async_trait;
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::upsert::excluded;
use portal_auth_domain::{Timestamp, TokenHash};
use portal_auth_ports::{StoreResult, ThrottleRepository, ThrottleState};

use crate::schema::throttle_counters;
use crate::store::SqliteStore;

#[async_trait]
impl ThrottleRepository for SqliteStore {
    async fn record_failure(
        &self,
        key: &TokenHash,
        now: Timestamp,
        window_secs: u64,
    ) -> StoreResult<ThrottleState> {
        let key = key.as_bytes().to_vec();
        let at = now.unix();
        // Saturating, as Timestamp's addition is: a huge window never wraps
        // into the past.
        let new_end = (now + window_secs).unix();
        let (failures, window_ends_at) = self
            .write(move |conn| {
                // Every right-hand side of an UPDATE sees the row as it was,
                // so both CASEs test the old window, not one just restarted.
                let ended = throttle_counters::window_ends_at.le(at);
                let failures = case_when::<_, _, BigInt>(ended, 1_i64)
                    .otherwise(throttle_counters::failures + 1_i64);
                let window_ends_at = case_when(ended, excluded(throttle_counters::window_ends_at))
                    .otherwise(throttle_counters::window_ends_at);
                diesel::insert_into(throttle_counters::table)
                    .values((
                        throttle_counters::key_hash.eq(key),
                        throttle_counters::failures.eq(1_i64),
                        throttle_counters::window_ends_at.eq(new_end),
                    ))
                    .on_conflict(throttle_counters::key_hash)
                    .do_update()
                    .set((
                        throttle_counters::failures.eq(failures),
                        throttle_counters::window_ends_at.eq(window_ends_at),
                    ))
                    .returning((
                        throttle_counters::failures,
                        throttle_counters::window_ends_at,
                    ))
                    .get_result::<(i64, i64)>(conn)
            })
            .await?;
        Ok(state(failures, window_ends_at))
    }

    async fn throttle_state(&self, key: &TokenHash, now: Timestamp) -> StoreResult<ThrottleState> {
        let key = key.as_bytes().to_vec();
        let at = now.unix();
        let current = self
            .read(move |conn| {
                throttle_counters::table
                    .find(key)
                    .filter(throttle_counters::window_ends_at.gt(at))
                    .select((
                        throttle_counters::failures,
                        throttle_counters::window_ends_at,
                    ))
                    .first::<(i64, i64)>(conn)
                    .optional()
            })
            .await?;
        // An ended window is left in place rather than deleted here: reads
        // run on read-only connections, and the next failure restarts it.
        Ok(current.map_or(
            ThrottleState {
                failures: 0,
                window_ends_at: now,
            },
            |(failures, ends)| state(failures, ends),
        ))
    }

    async fn clear_failures(&self, key: &TokenHash) -> StoreResult<()> {
        let key = key.as_bytes().to_vec();
        self.write(move |conn| {
            diesel::delete(throttle_counters::table.find(key))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}

/// A stored count as the port's state. A count that does not fit a `u32`
/// (only a damaged row could hold one) reads as the most failures there can
/// be, so damage throttles a key instead of freeing it.
fn state(failures: i64, window_ends_at: i64) -> ThrottleState {
    ThrottleState {
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        window_ends_at: Timestamp::from_unix(window_ends_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_that_does_not_fit_reads_as_the_most() {
        assert_eq!(state(-1, 5).failures, u32::MAX);
        assert_eq!(state(i64::MAX, 5).failures, u32::MAX);
        assert_eq!(state(3, 5).failures, 3);
    }
}
