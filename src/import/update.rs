//! A source order the store already has: its status, shipping address and
//! tags follow the source (never its items, customer or note), and the change
//! is written as the API writes one (version, outbox stamp, timeline, one
//! event). The status may only move forward through the lifecycle, several
//! steps at once (`pending` → `completed`); any other move rejects the order.
//! A deleted order stays as it is.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use sqlx::types::Json;

use super::write::{Outcome, Prepared};
use crate::events::{self, EventType, NewEvent};
use crate::http::auth::StoreScope;
use crate::orders::model::Status;
use crate::orders::repo::{ORDER_COLUMNS, OrderRow};

/// Whether `to` can be reached from `from` by allowed moves.
fn reachable(from: Status, to: Status) -> bool {
    let mut frontier = vec![from];
    let mut seen = vec![from];
    while let Some(status) = frontier.pop() {
        for &next in status.next() {
            if next == to {
                return true;
            }
            if !seen.contains(&next) {
                seen.push(next);
                frontier.push(next);
            }
        }
    }
    false
}

/// What the source changes: `None` when nothing, else what (or why not).
pub fn compare(row: &OrderRow, prepared: &Prepared) -> Option<Result<String, String>> {
    if row.deleted_at.is_some() {
        return None;
    }
    let order = &prepared.order;
    let mut changed = Vec::new();
    let current = row.status();
    if order.status != current {
        if !reachable(current, order.status) {
            return Some(Err(format!(
                "status: an order that is {} cannot become {}",
                current.as_str(),
                order.status.as_str()
            )));
        }
        changed.push(format!(
            "status {} → {}",
            current.as_str(),
            order.status.as_str()
        ));
    }
    if let Some(address) = &order.shipping_address {
        let before = row.shipping_address.as_ref().map(|json| json!(json.0));
        if before.as_ref() != Some(&json!(address)) {
            changed.push("shipping_address".to_string());
        }
    }
    if order.tags.as_ref().is_some_and(|tags| *tags != row.tags) {
        changed.push("tags".to_string());
    }
    (!changed.is_empty()).then(|| Ok(changed.join(", ")))
}

/// Brings the stored order in line with the source, in the caller's transaction.
pub async fn apply(conn: &mut PgConnection, prepared: &Prepared) -> anyhow::Result<Outcome> {
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORDER_COLUMNS} from orders where store_id = $1 and external_id = $2 for update"
    )))
    .bind(&prepared.store)
    .bind(&prepared.order.external_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Outcome::Unchanged);
    };
    let what = match compare(&row, prepared) {
        None => return Ok(Outcome::Unchanged),
        Some(Err(reason)) => return Ok(Outcome::Rejected(reason)),
        Some(Ok(what)) => what,
    };
    let order = &prepared.order;
    let current = row.status();
    let target = (order.status != current).then_some(order.status);
    if target == Some(Status::Cancelled) && current.is_open() {
        release_stock(conn, &row).await?;
    }
    let address = order.shipping_address.as_ref().map(Json);
    sqlx::query(
        "update orders set
            status = $2,
            completed_at = case when $2 = 'completed' and status <> 'completed'
                                then coalesce($3, now()) else completed_at end,
            cancelled_at = case when $2 = 'cancelled' and status <> 'cancelled'
                                then coalesce($4, now()) else cancelled_at end,
            shipping_address = coalesce($5, shipping_address),
            tags = coalesce($6, tags),
            version = version + 1, updated_at = now(),
            change_stamp = nextval('order_change_seq')
         where id = $1",
    )
    .bind(row.id)
    .bind(order.status.as_str())
    .bind(order.completed_at)
    .bind(order.cancelled_at)
    .bind(address)
    .bind(&order.tags)
    .execute(&mut *conn)
    .await?;
    let mut edited = Map::new();
    if let Some(address) = &order.shipping_address {
        edited.insert("shipping_address".into(), json!(address));
    }
    if let Some(tags) = &order.tags {
        edited.insert("tags".into(), json!(tags));
    }
    let (kind, from, to) = match target {
        Some(target) => (
            "status_changed",
            Some(current.as_str()),
            Some(target.as_str()),
        ),
        None => ("edited", None, None),
    };
    sqlx::query(
        "insert into order_events (order_id, kind, actor, from_status, to_status, data)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(kind)
    .bind(super::ACTOR)
    .bind(from)
    .bind(to)
    .bind(Json(Value::Object(edited)))
    .execute(&mut *conn)
    .await?;
    let reloaded = crate::orders::create::reload(conn, &StoreScope::All, row.id)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let event = match target {
        Some(Status::Cancelled) => NewEvent::order(EventType::OrderCancelled, &reloaded),
        Some(_) => NewEvent::status_changed(&reloaded, current),
        None => NewEvent::order(EventType::OrderUpdated, &reloaded),
    }
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    events::append(conn, &[event])
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    tracing::info!(store = %prepared.store, external_id = %order.external_id, %what, "import updated an order");
    Ok(Outcome::Updated(what))
}

/// Gives back the stock an order reserved (only orders made through the API,
/// or imported with `--reserve-stock`, hold any), products locked in id order.
async fn release_stock(conn: &mut PgConnection, row: &OrderRow) -> anyhow::Result<()> {
    sqlx::query(
        "with locked as (
             select p.id from products p join order_items i on i.product_id = p.id
             where i.order_id = $1 order by p.id for update of p)
         update products p set stock = p.stock + i.quantity, updated_at = now()
         from order_items i join orders o on o.id = i.order_id, locked
         where i.order_id = $1 and p.id = i.product_id and locked.id = p.id and o.stock_reserved",
    )
    .bind(row.id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_moves_forward_through_several_steps_but_never_back() {
        assert!(reachable(Status::Pending, Status::Completed));
        assert!(reachable(Status::Processing, Status::Cancelled));
        assert!(!reachable(Status::Shipped, Status::Cancelled));
        assert!(!reachable(Status::Completed, Status::Pending));
        assert!(!reachable(Status::Cancelled, Status::Pending));
    }
}
