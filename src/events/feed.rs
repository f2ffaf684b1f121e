//! Reading the log in commit order, without gaps, and pruning it.
//!
//! A position is `(xact_id, id)`. A read only returns events below
//! `pg_snapshot_xmin(pg_current_snapshot())`: every transaction under that
//! has ended, and every transaction still to commit has an id (so a position)
//! at or above it. A reader's cursor therefore never passes an event that
//! commits later. Retention prunes a prefix of positions and records the last
//! one pruned; a cursor below it may have missed events and is refused (410).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Event, public_id};
use crate::http::auth::StoreScope;
use crate::http::error::ApiError;

/// A place in the log: `(xact_id, id)` of an event, or `(0, 0)` before the first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position(pub i64, pub i64);

/// What a page is restricted to.
#[derive(Debug)]
pub struct Filter {
    /// Wire names of the types wanted; all when `None`.
    pub types: Option<Vec<String>>,
    pub scope: StoreScope,
}

/// A page of the feed and the position to read on from.
#[derive(Debug)]
pub struct FeedPage {
    pub events: Vec<Event>,
    pub next: Position,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    #[sqlx(rename = "type")]
    kind: String,
    created_at: DateTime<Utc>,
    store_id: String,
    subject_id: Uuid,
    subject_version: i32,
    data: Json<serde_json::Value>,
    from_status: Option<String>,
    to_status: Option<String>,
    xact: i64,
}

impl EventRow {
    fn position(&self) -> Position {
        Position(self.xact, self.id)
    }

    fn into_event(self) -> Event {
        Event {
            id: public_id(self.id),
            kind: self.kind,
            created_at: self.created_at,
            store: self.store_id,
            subject_id: self.subject_id,
            subject_version: self.subject_version,
            data: self.data.0,
            from: self.from_status,
            to: self.to_status,
        }
    }
}

const EVENT_COLUMNS: &str = "id, type, created_at, store_id, subject_id, subject_version, data, \
    detail->>'from' as from_status, detail->>'to' as to_status, xact_id::text::bigint as xact";

/// Where the readable log ends, and where pruning has reached.
#[derive(Debug, sqlx::FromRow)]
struct Bounds {
    head_xact: Option<i64>,
    head_id: Option<i64>,
    pruned_xact: i64,
    pruned_id: i64,
}

impl Bounds {
    fn head(&self) -> Option<Position> {
        Some(Position(self.head_xact?, self.head_id?))
    }

    fn pruned(&self) -> Position {
        Position(self.pruned_xact, self.pruned_id)
    }
}

async fn bounds(conn: &mut PgConnection) -> Result<Bounds, ApiError> {
    let bounds = sqlx::query_as(
        "select h.xact as head_xact, h.id as head_id,
                p.xact_id::text::bigint as pruned_xact, p.id as pruned_id
         from events_pruned p left join lateral (
             select xact_id::text::bigint as xact, id from events
             where xact_id < pg_snapshot_xmin(pg_current_snapshot())
             order by xact_id desc, id desc limit 1
         ) h on true",
    )
    .fetch_one(conn)
    .await?;
    Ok(bounds)
}

/// Up to `limit` events after `after` (the oldest retained when `None`).
///
/// `next` is the last event's position, or, when the page is not full, the
/// head of the log as it was before the page was read: every event up to it
/// was visible to the page's read, so a filtered reader skips past what it
/// does not want instead of reading it again.
pub async fn page(
    conn: &mut PgConnection,
    after: Option<Position>,
    filter: &Filter,
    limit: i64,
) -> Result<FeedPage, ApiError> {
    let bounds = bounds(conn).await?;
    let pruned = bounds.pruned();
    let after = match after {
        Some(after) if after < pruned => return Err(ApiError::CursorExpired),
        Some(after) => after,
        None => pruned,
    };
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {EVENT_COLUMNS} from events
         where (xact_id, id) > ($1::text::xid8, $2)
           and xact_id < pg_snapshot_xmin(pg_current_snapshot())
           and ($3::text[] is null or type = any($3))
           and ($4::text is null or store_id = $4)
         order by xact_id, id
         limit $5"
    )))
    .bind(after.0.to_string())
    .bind(after.1)
    .bind(filter.types.as_deref())
    .bind(filter.scope.filter())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let last = rows.last().map(EventRow::position);
    let next = if rows.len() as i64 >= limit {
        last.unwrap_or(after)
    } else {
        [Some(after), last, bounds.head()]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(after)
    };
    Ok(FeedPage {
        events: rows.into_iter().map(EventRow::into_event).collect(),
        next,
    })
}

/// One event by its row id, if the scope sees it.
pub async fn get(pool: &PgPool, scope: &StoreScope, id: i64) -> Result<Event, ApiError> {
    let row: Option<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {EVENT_COLUMNS} from events where id = $1 and ($2::text is null or store_id = $2)"
    )))
    .bind(id)
    .bind(scope.filter())
    .fetch_optional(pool)
    .await?;
    row.map(EventRow::into_event)
        .ok_or(ApiError::NotFound("event"))
}

/// The retained events among these row ids, whatever their store.
pub async fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<Event>, ApiError> {
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {EVENT_COLUMNS} from events where id = any($1)"
    )))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(EventRow::into_event).collect())
}

/// The state of the log a scope sees.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogStatus {
    /// Pass as `after` to read only what commits from now on.
    pub head_cursor: String,
    /// The newest readable event, if any.
    pub head_event_id: Option<String>,
    pub head_created_at: Option<DateTime<Utc>>,
    /// The oldest event retained, if any.
    pub oldest_event_id: Option<String>,
    pub oldest_created_at: Option<DateTime<Utc>>,
    /// Events retained (an exact count).
    pub events: i64,
    /// The RabbitMQ relay's lag; absent when no relay has run.
    pub relay: Option<ReaderLag>,
    /// Webhook delivery's lag; only for keys without a store scope (webhooks
    /// are theirs alone).
    pub webhooks: Option<crate::webhooks::store::WebhooksLag>,
}

/// How far a reader of the log is behind.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReaderLag {
    /// Committed events after its position.
    pub events_behind: i64,
    /// Age of the oldest of them, in milliseconds (0 when none).
    pub oldest_pending_age_ms: i64,
    /// When its position last moved.
    pub last_advanced_at: DateTime<Utc>,
}

/// The lag of the reader `name` over the events `scope` sees; `None` if it never ran.
pub async fn reader_lag(
    conn: &mut PgConnection,
    name: &str,
    scope: &StoreScope,
) -> Result<Option<ReaderLag>, ApiError> {
    let lag = sqlx::query_as(
        "select count(e.id) as events_behind,
                coalesce((extract(epoch from now() - min(e.created_at)) * 1000)::bigint, 0)
                    as oldest_pending_age_ms,
                r.updated_at as last_advanced_at
         from event_readers r
         left join events e on (e.xact_id, e.id) > (r.xact_id, r.id)
                            and ($2::text is null or e.store_id = $2)
         where r.name = $1
         group by r.updated_at",
    )
    .bind(name)
    .bind(scope.filter())
    .fetch_optional(conn)
    .await?;
    Ok(lag)
}

/// Moves the reader `name`'s stored position to `next`.
pub async fn advance_reader(
    conn: &mut PgConnection,
    name: &str,
    next: Position,
) -> sqlx::Result<()> {
    sqlx::query(
        "update event_readers set xact_id = $2::text::xid8, id = $3, updated_at = now()
         where name = $1",
    )
    .bind(name)
    .bind(next.0.to_string())
    .bind(next.1)
    .execute(conn)
    .await?;
    Ok(())
}

/// Head, oldest and count of the events `scope` sees.
pub async fn status(conn: &mut PgConnection, scope: &StoreScope) -> Result<LogStatus, ApiError> {
    let bounds = bounds(conn).await?;
    let head = bounds.head().unwrap_or(bounds.pruned());
    #[derive(sqlx::FromRow)]
    struct Summary {
        head_id: Option<i64>,
        head_at: Option<DateTime<Utc>>,
        oldest_id: Option<i64>,
        oldest_at: Option<DateTime<Utc>>,
        events: i64,
    }
    let summary: Summary = sqlx::query_as(
        "with seen as (select * from events where $1::text is null or store_id = $1)
         select (select id from seen where xact_id < pg_snapshot_xmin(pg_current_snapshot())
                 order by xact_id desc, id desc limit 1) as head_id,
                (select created_at from seen where xact_id < pg_snapshot_xmin(pg_current_snapshot())
                 order by xact_id desc, id desc limit 1) as head_at,
                (select id from seen order by xact_id, id limit 1) as oldest_id,
                (select created_at from seen order by xact_id, id limit 1) as oldest_at,
                (select count(*) from seen) as events",
    )
    .bind(scope.filter())
    .fetch_one(&mut *conn)
    .await?;
    let relay = reader_lag(conn, super::relay::READER, scope).await?;
    let webhooks = match scope {
        StoreScope::All => Some(crate::webhooks::store::lag(conn).await?),
        StoreScope::One(_) => None,
    };
    Ok(LogStatus {
        head_cursor: crate::http::pagination::encode_cursor(&head),
        head_event_id: summary.head_id.map(public_id),
        head_created_at: summary.head_at,
        oldest_event_id: summary.oldest_id.map(public_id),
        oldest_created_at: summary.oldest_at,
        events: summary.events,
        relay,
        webhooks,
    })
}

/// Deletes the events older than `retention_days`, as a prefix of positions
/// that never passes a registered reader (`event_readers`) nor a transaction
/// still running, and records the last position deleted. Returns the count.
pub async fn prune(pool: &PgPool, retention_days: u32) -> Result<u64, ApiError> {
    let mut tx = pool.begin().await?;
    let horizon: Option<(String, i64)> = sqlx::query_as(
        "select xact_id::text, id from events
         where created_at < now() - make_interval(days => $1)
           and xact_id < pg_snapshot_xmin(pg_current_snapshot())
           and (xact_id, id) <= all (select xact_id, id from event_readers)
         order by xact_id desc, id desc limit 1",
    )
    .bind(i32::try_from(retention_days).unwrap_or(i32::MAX))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((xact, id)) = horizon else {
        return Ok(0);
    };
    let deleted = sqlx::query("delete from events where (xact_id, id) <= ($1::xid8, $2)")
        .bind(&xact)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("update events_pruned set xact_id = $1::xid8, id = $2")
        .bind(&xact)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted)
}
