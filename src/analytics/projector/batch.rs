//! One batch of the projector, in one transaction: read the order events
//! after the stored position (in commit order, without gaps: `events::feed`),
//! fold them per order into a state change, sum the changes per rollup row,
//! write them, the orders' projected states and the new position, commit.
//!
//! The batch first takes `analytics_projected_orders` in `row exclusive`
//! mode, then the position row `for update`: two batches (a stray second
//! projector, a test driving batches by hand) run one after the other, each
//! from the position the other stored, and `rollups rebuild` (which takes the
//! table in `exclusive` mode) never interleaves with one.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::contribution::{Deltas, Line, OrderFacts, OrderState};
use super::{READER, write};
use crate::events::EventType;
use crate::events::feed::{self, Filter, Position};
use crate::http::auth::StoreScope;
use crate::orders::model::Status;

/// What one batch did.
#[derive(Debug, Clone, Copy)]
pub struct Applied {
    /// Events read (applied or found already counted).
    pub events: usize,
    pub position: Position,
}

/// The part of an order event's `data` (the order as committed) that says
/// which state it reached.
#[derive(Deserialize)]
struct Reached {
    status: Status,
    deleted_at: Option<DateTime<Utc>>,
}

/// An order's state before the batch and after it.
struct Change {
    before: Option<OrderState>,
    after: OrderState,
    version: i32,
    /// Whether an event of this batch moved it past its projected version.
    moved: bool,
}

/// Applies up to `limit` events after the stored position.
pub async fn apply(conn: &mut PgConnection, limit: i64) -> anyhow::Result<Applied> {
    sqlx::query("lock table analytics_projected_orders in row exclusive mode")
        .execute(&mut *conn)
        .await?;
    let (xact, id): (i64, i64) = sqlx::query_as(
        "select xact_id::text::bigint, id from event_readers where name = $1 for update",
    )
    .bind(READER)
    .fetch_one(&mut *conn)
    .await?;
    let position = Position(xact, id);
    let filter = Filter {
        types: Some(order_types()),
        scope: StoreScope::All,
    };
    let page = feed::page(&mut *conn, Some(position), &filter, limit)
        .await
        .map_err(|error| anyhow::anyhow!("reading the log: {error}"))?;
    let changes = fold(&mut *conn, &page.events).await?;
    if !changes.is_empty() {
        write_states(&mut *conn, &changes).await?;
        let moving: Vec<Uuid> = changes
            .iter()
            .filter(|(_, change)| Deltas::moves(change.before, change.after))
            .map(|(id, _)| *id)
            .collect();
        let facts = facts(&mut *conn, &moving).await?;
        let mut deltas = Deltas::default();
        for id in &moving {
            let change = &changes[id];
            if let Some(facts) = facts.get(id) {
                deltas.transition(facts, change.before, change.after);
            }
        }
        write::write(&mut *conn, &deltas.without_no_ops()).await?;
    }
    if page.next != position {
        feed::advance_reader(conn, READER, page.next).await?;
    }
    Ok(Applied {
        events: page.events.len(),
        position: page.next,
    })
}

fn order_types() -> Vec<String> {
    EventType::ALL
        .into_iter()
        .map(EventType::as_str)
        .filter(|kind| kind.starts_with("order."))
        .map(str::to_string)
        .collect()
}

/// Each order's state before the batch (as projected) and after its last
/// event; an event at or below the projected version is already counted.
async fn fold(
    conn: &mut PgConnection,
    events: &[crate::events::Event],
) -> anyhow::Result<HashMap<Uuid, Change>> {
    let mut ids: Vec<Uuid> = events.iter().map(|event| event.subject_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let projected: Vec<(Uuid, i32, String, bool)> = sqlx::query_as(
        "select order_id, version, status, deleted from analytics_projected_orders
         where order_id = any($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let selling = selling_states(&mut *conn).await?;
    let state = |status: Status, deleted: bool| OrderState {
        status,
        deleted,
        sells: selling.contains(&(status, deleted)),
    };
    let mut changes: HashMap<Uuid, Change> = HashMap::with_capacity(ids.len());
    let mut versions: HashMap<Uuid, i32> = HashMap::with_capacity(ids.len());
    for (id, version, status, deleted) in projected {
        let status = Status::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown projected status {status}"))?;
        let state = state(status, deleted);
        versions.insert(id, version);
        changes.insert(
            id,
            Change {
                before: Some(state),
                after: state,
                version,
                moved: false,
            },
        );
    }
    for event in events {
        if versions
            .get(&event.subject_id)
            .is_some_and(|counted| *counted >= event.subject_version)
        {
            continue;
        }
        let reached: Reached = serde_json::from_value(event.data.clone())?;
        let after = state(reached.status, reached.deleted_at.is_some());
        versions.insert(event.subject_id, event.subject_version);
        let change = changes.entry(event.subject_id).or_insert(Change {
            before: None,
            after,
            version: event.subject_version,
            moved: true,
        });
        change.after = after;
        change.version = event.subject_version;
        change.moved = true;
    }
    changes.retain(|_, change| change.moved);
    Ok(changes)
}

/// The states (status, deleted) that count as a sale, as `analytics_sells`
/// (migration 0017), the one rule, says.
async fn selling_states(conn: &mut PgConnection) -> sqlx::Result<Vec<(Status, bool)>> {
    let statuses: Vec<&str> = Status::ALL.into_iter().map(Status::as_str).collect();
    let selling: Vec<(String, bool)> = sqlx::query_as(
        "select s.status, d.deleted
         from unnest($1::text[]) as s(status), (values (false), (true)) as d(deleted)
         where analytics_sells(s.status, d.deleted)",
    )
    .bind(&statuses)
    .fetch_all(conn)
    .await?;
    Ok(selling
        .into_iter()
        .filter_map(|(status, deleted)| Some((Status::parse(&status)?, deleted)))
        .collect())
}

async fn write_states(
    conn: &mut PgConnection,
    changes: &HashMap<Uuid, Change>,
) -> sqlx::Result<()> {
    let mut sorted: Vec<(&Uuid, &Change)> = changes.iter().collect();
    sorted.sort_unstable_by_key(|(id, _)| **id);
    let ids: Vec<Uuid> = sorted.iter().map(|(id, _)| **id).collect();
    let versions: Vec<i32> = sorted.iter().map(|(_, c)| c.version).collect();
    let statuses: Vec<&str> = sorted
        .iter()
        .map(|(_, c)| c.after.status.as_str())
        .collect();
    let deleted: Vec<bool> = sorted.iter().map(|(_, c)| c.after.deleted).collect();
    write::states(conn, &ids, &versions, &statuses, &deleted).await
}

#[derive(sqlx::FromRow)]
struct FactRow {
    id: Uuid,
    store_id: String,
    customer_id: Option<String>,
    total: Decimal,
    created_at: DateTime<Utc>,
    day: NaiveDate,
    hour: DateTime<Utc>,
    processing_seconds: Decimal,
    product_id: Uuid,
    category: String,
    quantity: i32,
    line_total: Decimal,
    unit_cost: Option<Decimal>,
}

/// The facts of `orders` from the order rows; the store's time zone rules
/// (its local day) are PostgreSQL's, as in the rebuild and the read side.
async fn facts(
    conn: &mut PgConnection,
    orders: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, OrderFacts>> {
    if orders.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<FactRow> = sqlx::query_as(
        "select o.id, o.store_id, o.customer_id, o.total, o.created_at,
                analytics_local_day(o.created_at, s.timezone) as day,
                date_trunc('hour', o.created_at, 'UTC') as hour,
                coalesce(extract(epoch from o.completed_at - o.created_at), 0) as processing_seconds,
                i.product_id, i.category, i.quantity, i.line_total, i.unit_cost
         from orders o join stores s on s.id = o.store_id join order_items i on i.order_id = o.id
         where o.id = any($1)
         order by o.id, i.line",
    )
    .bind(orders)
    .fetch_all(conn)
    .await?;
    let mut facts: HashMap<Uuid, OrderFacts> = HashMap::with_capacity(orders.len());
    for row in rows {
        let order = facts.entry(row.id).or_insert_with(|| OrderFacts {
            store: row.store_id,
            customer: row.customer_id,
            total: row.total,
            created_at: row.created_at,
            day: row.day,
            hour: row.hour,
            processing_seconds: row.processing_seconds,
            lines: Vec::new(),
        });
        order.lines.push(Line {
            product_id: row.product_id,
            category: row.category,
            quantity: i64::from(row.quantity),
            line_total: row.line_total,
            unit_cost: row.unit_cost,
        });
    }
    Ok(facts)
}
