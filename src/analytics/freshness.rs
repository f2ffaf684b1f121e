//! How fresh the projection is (API.md "Analytics freshness").
//!
//! The projection is complete through `as_of`: the start of the oldest order
//! event committed after the projector's position (a change that committed
//! before that started before it, so it is not pending: it is applied), or,
//! with nothing pending, the moment of the reading. `lag_ms` is how far
//! `as_of` is behind that moment. Events committed behind a transaction
//! still running count as pending too (the projector reaches them once it
//! ends). Both are read before the figures, so the figures are at least that
//! fresh.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::projector::READER;
use crate::events::feed::Position;

/// How long `fresh=true` waits for the projector at most.
pub const FRESH_WAIT: Duration = Duration::from_secs(5);
/// How often a fresh read checks the projector's position.
const FRESH_POLL: Duration = Duration::from_millis(20);

/// `GET /v1/analytics/status`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectionStatus {
    /// The projector's position in the log, as a cursor of `GET /v1/events`.
    pub position: String,
    /// Order events committed after it.
    pub pending_events: i64,
    /// Age of the oldest of them, in milliseconds (0 when none).
    pub lag_ms: i64,
    /// When the projector last moved its position.
    pub last_applied_at: DateTime<Utc>,
}

/// The freshness every analytics answer carries.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Freshness {
    /// The commit time the figures are complete through.
    pub as_of: DateTime<Utc>,
    /// How far `as_of` is behind the time of the answer, in milliseconds.
    pub lag_ms: i64,
}

/// An analytics answer with its freshness beside its figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Fresh<T> {
    #[serde(flatten)]
    pub figures: T,
    #[serde(flatten)]
    pub freshness: Freshness,
}

impl<T> Fresh<T> {
    pub fn new(figures: T, freshness: Freshness) -> Self {
        Fresh { figures, freshness }
    }
}

/// A JSON object already rendered, with `as_of` and `lag_ms` added.
pub fn spliced(mut object: String, freshness: &Freshness) -> String {
    let members = serde_json::to_string(freshness).unwrap_or_default();
    if object.ends_with('}') && members.len() > 2 {
        object.pop();
        let empty = object.trim_end().ends_with('{');
        if !empty {
            object.push(',');
        }
        object.push_str(&members[1..]);
    }
    object
}

#[derive(sqlx::FromRow)]
struct Row {
    xact: i64,
    id: i64,
    last_applied_at: DateTime<Utc>,
    oldest_pending: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    pending: i64,
}

const PENDING: &str =
    "from events e where (e.xact_id, e.id) > (r.xact_id, r.id) and e.type like 'order.%'";

impl Row {
    fn freshness(&self) -> Freshness {
        let as_of = self.oldest_pending.unwrap_or(self.now).min(self.now);
        Freshness {
            as_of,
            lag_ms: (self.now - as_of).num_milliseconds(),
        }
    }
}

async fn read(pool: &PgPool, count: bool) -> sqlx::Result<Row> {
    let pending = if count {
        format!("(select count(*) {PENDING})")
    } else {
        "0::bigint".to_string()
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select r.xact_id::text::bigint as xact, r.id, r.updated_at as last_applied_at,
                (select min(e.created_at) {PENDING}) as oldest_pending,
                clock_timestamp() as now, {pending} as pending
         from event_readers r where r.name = $1"
    )))
    .bind(READER)
    .fetch_one(pool)
    .await
}

/// The projector's status.
pub async fn status(pool: &PgPool) -> sqlx::Result<ProjectionStatus> {
    let row = read(pool, true).await?;
    Ok(ProjectionStatus {
        position: crate::http::pagination::encode_cursor(&Position(row.xact, row.id)),
        pending_events: row.pending,
        lag_ms: row.freshness().lag_ms,
        last_applied_at: row.last_applied_at,
    })
}

/// How fresh the rollups are now. With `fresh`, first waits (up to
/// [`FRESH_WAIT`]) until the projector has passed every order event committed
/// before the call.
pub async fn freshness(pool: &PgPool, fresh: bool) -> sqlx::Result<Freshness> {
    if fresh {
        wait_for_head(pool).await?;
    }
    Ok(read(pool, false).await?.freshness())
}

async fn wait_for_head(pool: &PgPool) -> sqlx::Result<()> {
    let head: Option<(i64, i64)> = sqlx::query_as(
        "select xact_id::text::bigint, id from events where type like 'order.%'
         order by xact_id desc, id desc limit 1",
    )
    .fetch_optional(pool)
    .await?;
    let Some((xact, id)) = head else {
        return Ok(());
    };
    let target = Position(xact, id);
    let deadline = tokio::time::Instant::now() + FRESH_WAIT;
    loop {
        let (xact, id): (i64, i64) =
            sqlx::query_as("select xact_id::text::bigint, id from event_readers where name = $1")
                .bind(READER)
                .fetch_one(pool)
                .await?;
        if Position(xact, id) >= target || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(FRESH_POLL).await;
    }
}
