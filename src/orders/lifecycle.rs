//! Changing an order: status transitions (cancel releases stock), shipping,
//! tracking, tags and note, and soft deletion. Each change is one transaction
//! that bumps `version` and the outbox change stamp and writes timeline entries
//! and its one event in the log: `order.cancelled`, `order.status_changed`,
//! `order.updated` (edits without a status move) or `order.deleted` (also for
//! the cancel inside a delete, whose `data` shows it).

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::create::reload;
use super::model::{Order, OrderPatch, Status};
use super::repo::{self, OrderRef, OrderRow};
use crate::events::{self, EventType, NewEvent};
use crate::http::auth::{Principal, Role, StoreScope};
use crate::http::error::{ApiError, Conflict};

/// Applies a patch; `expected_version` is the `If-Match` check.
pub async fn update_order(
    conn: &mut PgConnection,
    scope: &StoreScope,
    principal: &Principal,
    order: OrderRef,
    patch: &OrderPatch,
    expected_version: Option<i32>,
) -> Result<Order, ApiError> {
    check_support_patch(principal, patch)?;
    let row = lock_live(conn, scope, order, expected_version).await?;
    let current = row.status();
    let actor = principal.name.as_str();

    let new_status = patch.status.filter(|target| *target != current);
    if let Some(target) = new_status {
        change_status(conn, &row, target, actor).await?;
    }
    let mut edited = Map::new();
    if let Some(address) = &patch.shipping_address {
        edited.insert("shipping_address".into(), json!(address));
    }
    if let Some(tracking) = &patch.tracking {
        edited.insert("tracking".into(), json!(tracking));
    }
    if let Some(tags) = &patch.tags {
        edited.insert("tags".into(), json!(tags));
    }
    let note_changed = patch
        .note
        .as_ref()
        .is_some_and(|note| Some(note) != row.note.as_ref());
    if !edited.is_empty() || note_changed {
        sqlx::query(
            "update orders set
                shipping_address = coalesce($2, shipping_address), tracking = coalesce($3, tracking),
                tags = coalesce($4, tags), note = coalesce($5, note)
             where id = $1",
        )
        .bind(row.id)
        .bind(patch.shipping_address.as_ref().map(sqlx::types::Json))
        .bind(patch.tracking.as_ref().map(sqlx::types::Json))
        .bind(&patch.tags)
        .bind(&patch.note)
        .execute(&mut *conn)
        .await?;
    }
    let was_edited = !edited.is_empty();
    if was_edited {
        repo::record_event(
            conn,
            row.id,
            "edited",
            actor,
            (None, None),
            Value::Object(edited),
        )
        .await?;
    }
    if note_changed {
        repo::record_event(
            conn,
            row.id,
            "note_changed",
            actor,
            (None, None),
            json!({ "note": patch.note }),
        )
        .await?;
    }
    if new_status.is_some() || was_edited || note_changed {
        bump(conn, row.id).await?;
    }
    let order = reload(conn, scope, row.id).await?;
    let event = match new_status {
        Some(Status::Cancelled) => Some(NewEvent::order(EventType::OrderCancelled, &order)?),
        Some(_) => Some(NewEvent::status_changed(&order, current)?),
        None if was_edited || note_changed => {
            Some(NewEvent::order(EventType::OrderUpdated, &order)?)
        }
        None => None,
    };
    events::append(conn, event.as_slice()).await?;
    Ok(order)
}

/// Support staff may edit notes and tags and cancel; nothing else.
fn check_support_patch(principal: &Principal, patch: &OrderPatch) -> Result<(), ApiError> {
    if principal.role != Role::Support {
        return Ok(());
    }
    let cancels_only = patch
        .status
        .is_none_or(|status| status == Status::Cancelled);
    if !cancels_only || patch.shipping_address.is_some() || patch.tracking.is_some() {
        return Err(ApiError::Forbidden(
            "a support key may only cancel orders and edit their note and tags".into(),
        ));
    }
    Ok(())
}

/// Soft-deletes an order: cancels it first if it is open (releasing stock).
pub async fn delete_order(
    conn: &mut PgConnection,
    scope: &StoreScope,
    principal: &Principal,
    order: OrderRef,
    expected_version: Option<i32>,
) -> Result<Order, ApiError> {
    let row = lock_live(conn, scope, order, expected_version).await?;
    let actor = principal.name.as_str();
    if row.status().is_open() {
        change_status(conn, &row, Status::Cancelled, actor).await?;
    }
    sqlx::query("update orders set deleted_at = now() where id = $1")
        .bind(row.id)
        .execute(&mut *conn)
        .await?;
    repo::record_event(conn, row.id, "deleted", actor, (None, None), json!({})).await?;
    bump(conn, row.id).await?;
    let order = reload(conn, scope, row.id).await?;
    events::append(conn, &[NewEvent::order(EventType::OrderDeleted, &order)?]).await?;
    Ok(order)
}

/// Locks a not-deleted order and checks `If-Match`.
async fn lock_live(
    conn: &mut PgConnection,
    scope: &StoreScope,
    order: OrderRef,
    expected_version: Option<i32>,
) -> Result<OrderRow, ApiError> {
    let row = repo::find_row(conn, scope, order, true).await?;
    if row.deleted_at.is_some() {
        return Err(ApiError::NotFound("order"));
    }
    if expected_version.is_some_and(|expected| expected != row.version) {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(row)
}

/// Moves the status along the lifecycle, or answers 409 with the allowed moves.
async fn change_status(
    conn: &mut PgConnection,
    row: &OrderRow,
    target: Status,
    actor: &str,
) -> Result<(), ApiError> {
    let current = row.status();
    if !current.next().contains(&target) {
        let allowed: Vec<&str> = current
            .next()
            .iter()
            .map(|status| status.as_str())
            .collect();
        return Err(ApiError::conflict(
            Conflict::IllegalTransition,
            format!(
                "an order that is {} cannot become {}",
                current.as_str(),
                target.as_str()
            ),
            json!({ "current_status": current.as_str(), "allowed_next": allowed }),
        ));
    }
    if target == Status::Cancelled {
        release_stock(conn, row.id).await?;
    }
    sqlx::query(
        "update orders set status = $2,
            completed_at = case when $2 = 'completed' then now() else completed_at end,
            cancelled_at = case when $2 = 'cancelled' then now() else cancelled_at end
         where id = $1",
    )
    .bind(row.id)
    .bind(target.as_str())
    .execute(&mut *conn)
    .await?;
    repo::record_event(
        conn,
        row.id,
        "status_changed",
        actor,
        (Some(current), Some(target)),
        json!({}),
    )
    .await
}

/// Gives the order's reserved quantities back to stock, locking products in id
/// order like order creation does, so the two cannot deadlock. Orders that
/// reserved nothing (imported history, `stock_reserved = false`) give nothing.
async fn release_stock(conn: &mut PgConnection, order_id: Uuid) -> Result<(), ApiError> {
    sqlx::query(
        "select p.id from products p join order_items i on i.product_id = p.id
         where i.order_id = $1 order by p.id for update of p",
    )
    .bind(order_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update products p set stock = p.stock + i.quantity, updated_at = now()
         from order_items i join orders o on o.id = i.order_id
         where i.order_id = $1 and p.id = i.product_id and o.stock_reserved",
    )
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A change happened: new version, new outbox stamp.
async fn bump(conn: &mut PgConnection, order_id: Uuid) -> Result<(), ApiError> {
    sqlx::query(
        "update orders set version = version + 1, updated_at = now(),
            change_stamp = nextval('order_change_seq')
         where id = $1",
    )
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(())
}
