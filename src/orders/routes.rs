//! `/v1/orders` handlers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

use super::lifecycle::{delete_order as soft_delete, update_order as apply_patch};
use super::model::{NewOrder, Order, OrderEvent, OrderPatch, Status};
use super::repo::{self, ListCursor, OrderFilter, OrderRef};
use crate::http::auth::{Principal, Role};
use crate::http::conditional::{IfMatch, etag};
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::extract::{RawJson, ValidJson, ValidQuery};
use crate::http::idempotency::{IdempotencyKey, Replayable, run_idempotent};
use crate::http::pagination::{self, MAX_LIMIT, Page};
use crate::state::AppState;

/// Who may read orders.
const READERS: &[Role] = &[Role::Admin, Role::Writer, Role::Support];
/// Who may create and delete orders.
const WRITERS: &[Role] = &[Role::Admin, Role::Writer];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order, update_order, delete_order))
        .routes(routes!(get_order_status))
        .routes(routes!(list_order_events))
}

fn order_response(status: StatusCode, order: &Order) -> Response {
    (status, [etag(order.version)], Json(order)).into_response()
}

/// Create an order: snapshots the products and reserves their stock.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = Order),
        (status = 409, description = "Short stock (naming the items) or a duplicate external_id (naming the existing order)"),
        (status = 422, description = "Invalid fields, unknown or inactive products")))]
async fn create_order(
    State(state): State<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: RawJson<NewOrder>,
) -> Result<Response, ApiError> {
    principal.require(WRITERS)?;
    let new = body.value;
    if new.customer.id.is_none() && new.customer.email.is_none() {
        return Err(ApiError::invalid(
            "customer",
            "give at least an id or an email",
        ));
    }
    // The order's first statement finds the store (`create::create_order`).
    let store = principal.store_to_write(new.store.as_deref())?;
    let actor = principal.name.clone();
    run_idempotent(
        &state,
        &principal,
        key,
        "POST /v1/orders",
        &body.bytes,
        move |conn| {
            Box::pin(async move {
                let order = super::create::create_order(conn, &store, &actor, &new).await?;
                let location = format!("/v1/orders/{}", order.id);
                let (etag_name, etag_value) = etag(order.version);
                Ok(Replayable::created(&order, &location)?.with_header(etag_name, etag_value))
            })
        },
    )
    .await
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOrders {
    store: Option<String>,
    status: Option<Status>,
    customer_id: Option<String>,
    email: Option<String>,
    /// RFC 3339 time or a date (start of that day, UTC), inclusive.
    created_from: Option<String>,
    /// RFC 3339 time (exclusive) or a date (that whole day included).
    created_to: Option<String>,
    #[serde(default)]
    include_deleted: bool,
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Parses a list bound: an RFC 3339 time, or a date meaning the start of that day
/// (for `created_from`) or of the next (for `created_to`, so the day is included).
fn parse_bound(
    field: &str,
    text: Option<&str>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ApiError::BadParameter {
        field: field.into(),
        message: "must be an RFC 3339 time or a YYYY-MM-DD date".into(),
    })?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(date.and_hms_opt(0, 0, 0).map(|start| start.and_utc()))
}

/// List orders straight from the database, newest first.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(ListOrders),
    responses((status = 200, body = Page<Order>), (status = 400), (status = 404, description = "Unknown or unseen store")))]
async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<ListOrders>,
) -> Result<Json<Page<Order>>, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, query.store.as_deref()).await?;
    let filter = OrderFilter {
        status: query.status,
        customer_id: query.customer_id,
        email: query.email,
        created_from: parse_bound("created_from", query.created_from.as_deref(), false)?,
        created_to: parse_bound("created_to", query.created_to.as_deref(), true)?,
        include_deleted: query.include_deleted,
    };
    let cursor: Option<ListCursor> = pagination::decode_cursor(query.cursor.as_deref())?;
    let limit = pagination::page_limit(query.limit);
    let rows = repo::list(&state.db, &scope, &filter, cursor, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |order| {
        (order.created_at, order.id)
    })))
}

/// Get an order by UUID or number (deleted orders too, with `deleted_at`).
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The order's UUID or number")),
    responses((status = 200, body = Order), (status = 404)))]
async fn get_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, None).await?;
    let order = repo::get(&state.db, &scope, OrderRef::parse(&id)?).await?;
    Ok(order_response(StatusCode::OK, &order))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct OrderStatus {
    status: Status,
    updated_at: DateTime<Utc>,
}

/// An order's current status.
#[utoipa::path(get, path = "/v1/orders/{id}/status", tag = "orders",
    params(("id" = String, Path, description = "The order's UUID or number")),
    responses((status = 200, body = OrderStatus), (status = 404)))]
async fn get_order_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<OrderStatus>, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, None).await?;
    let mut conn = state.db.acquire().await?;
    let row = repo::find_row(&mut conn, &scope, OrderRef::parse(&id)?, false).await?;
    Ok(Json(OrderStatus {
        status: row.status(),
        updated_at: row.updated_at,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Timeline {
    data: Vec<OrderEvent>,
}

/// An order's timeline, oldest first.
#[utoipa::path(get, path = "/v1/orders/{id}/events", tag = "orders",
    params(("id" = String, Path, description = "The order's UUID or number")),
    responses((status = 200, body = Timeline), (status = 404)))]
async fn list_order_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, None).await?;
    let data = repo::events(&state.db, &scope, OrderRef::parse(&id)?).await?;
    Ok(Json(Timeline { data }))
}

/// Update status, shipping address, tracking, tags or note. Support keys may only
/// cancel and edit note and tags.
#[utoipa::path(patch, path = "/v1/orders/{id}", tag = "orders", request_body = OrderPatch,
    params(("id" = String, Path, description = "The order's UUID or number")),
    responses((status = 200, body = Order), (status = 404),
        (status = 409, description = "Illegal transition; lists `allowed_next`"), (status = 412), (status = 422)))]
async fn update_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    ValidJson(patch): ValidJson<OrderPatch>,
) -> Result<Response, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, None).await?;
    let order_ref = OrderRef::parse(&id)?;
    let mut tx = state.db.begin().await?;
    let order = apply_patch(&mut tx, &scope, &principal, order_ref, &patch, if_match.0).await?;
    tx.commit().await?;
    Ok(order_response(StatusCode::OK, &order))
}

/// Soft-delete an order: cancels it first if open; hidden from lists and search.
#[utoipa::path(delete, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The order's UUID or number")),
    responses((status = 200, body = Order), (status = 404, description = "Unknown or already deleted"), (status = 412)))]
async fn delete_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    principal.require(WRITERS)?;
    let scope = principal.scope(&state, None).await?;
    let order_ref = OrderRef::parse(&id)?;
    let mut tx = state.db.begin().await?;
    let order = soft_delete(&mut tx, &scope, &principal, order_ref, if_match.0).await?;
    tx.commit().await?;
    Ok(order_response(StatusCode::OK, &order))
}
