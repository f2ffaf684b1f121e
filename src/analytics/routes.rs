//! `/v1/analytics/*` handlers: `analyst` and `admin` keys only; every route
//! takes `store` (default: the key's store, else `default`; a store the key
//! cannot see is a 404) and a range (see [`super::range`]).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::closed;
use super::closed_hours;
use super::customers::{self, CustomerValue};
use super::hourly::{HourPlan, HourlySales};
use super::plan::Plan;
use super::range::{self, RangeRequest, Resolved};
use super::sales::{self, CategoryList, CategorySales, ProductSales, RankBy, TopProducts};
use super::summary::{self, OrderSummary};
use crate::http::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::extract::ValidQuery;
use crate::state::AppState;

/// Who may read analytics.
const ANALYSTS: &[Role] = &[Role::Admin, Role::Analyst];
/// Largest `limit` of a top-N list.
const MAX_TOP: i64 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(top_products))
        .routes(routes!(top_bought_yesterday))
        .routes(routes!(product_sales))
        .routes(routes!(list_categories))
        .routes(routes!(category_revenue))
        .routes(routes!(customer_lifetime_value))
        .routes(routes!(hourly_sales))
        .routes(routes!(order_summary))
}

/// A store and a range: what every analytics route takes.
#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Store id; default: the key's store, else `default`.
    store: Option<String>,
    /// `YYYY-MM-DD` (local day, included) or an RFC 3339 time (included).
    from: Option<String>,
    /// `YYYY-MM-DD` (local day, included) or an RFC 3339 time (excluded).
    to: Option<String>,
    /// IANA time zone for the dates in `from` / `to`; default: the store's.
    tz: Option<String>,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TopParams {
    /// Store id; default: the key's store, else `default`.
    store: Option<String>,
    /// `YYYY-MM-DD` (local day, included) or an RFC 3339 time (included).
    from: Option<String>,
    /// `YYYY-MM-DD` (local day, included) or an RFC 3339 time (excluded).
    to: Option<String>,
    /// IANA time zone for the dates in `from` / `to`; default: the store's.
    tz: Option<String>,
    /// What to rank by (default `quantity`); ties go to the lower product id.
    #[param(inline)]
    by: Option<RankBy>,
    /// 1–100, default 10.
    #[validate(range(min = 1, max = MAX_TOP))]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YesterdayParams {
    /// Store id; default: the key's store, else `default`.
    store: Option<String>,
    /// IANA time zone whose yesterday to use; default: the store's.
    tz: Option<String>,
    /// 1–100, default 10.
    #[validate(range(min = 1, max = MAX_TOP))]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

impl RangeParams {
    fn range_request(&self) -> Result<RangeRequest, ApiError> {
        RangeRequest::parse(self.from.as_deref(), self.to.as_deref(), self.tz.as_deref())
    }
}

impl TopParams {
    fn range_request(&self) -> Result<RangeRequest, ApiError> {
        RangeRequest::parse(self.from.as_deref(), self.to.as_deref(), self.tz.as_deref())
    }
}

/// Checks the role and resolves the store and the range. The role is checked
/// first: a key without it learns nothing about stores.
async fn prepare(
    state: &AppState,
    principal: &Principal,
    store: Option<&str>,
    request: Result<RangeRequest, ApiError>,
) -> Result<(String, Resolved), ApiError> {
    principal.require(ANALYSTS)?;
    let store = store
        .map(str::to_string)
        .or_else(|| principal.store.clone())
        .unwrap_or_else(|| "default".to_string());
    if !principal.can_see(&store) {
        return Err(ApiError::NotFound("store"));
    }
    // Resolving the range reads the store's row (its absence is the 404), once
    // per distinct range.
    let range = range::resolve_cached(&state.db, &state.ranges, &store, &request?).await?;
    Ok((store, range))
}

/// Top products by quantity, revenue or profit.
///
/// Sales figures count orders that are neither cancelled nor deleted; a range
/// selects orders by creation time. `profit` sums the lines whose snapshot has
/// a cost (`null` if none has); `lines_without_cost` counts the other lines in
/// the range, over every product, so profit is never computed with a made-up
/// zero cost. `sku` and `name` are the catalog's current ones.
#[utoipa::path(get, path = "/v1/analytics/products/top", tag = "analytics", params(TopParams),
    responses((status = 200, body = TopProducts), (status = 400, description = "Unknown parameter or bad `by`/`limit`"),
        (status = 403, description = "Not an analyst or admin key"), (status = 404, description = "Unknown or unseen store"),
        (status = 422, description = "Bad `from`, `to` or `tz`, or `from` after `to`")))]
async fn top_products(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<TopParams>,
) -> Result<Json<TopProducts>, ApiError> {
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let by = query.by.unwrap_or_default();
    let limit = query.limit.unwrap_or(10);
    let plan = Plan::new(&range);
    let top =
        closed::top_products(&state.db, &state.closed_periods, &store, &plan, by, limit).await?;
    Ok(Json(top))
}

/// Top products by quantity over the store's local yesterday.
///
/// Yesterday is the local calendar day before today in the store's time zone
/// (or `tz`): 23 or 25 hours long on DST change days. Takes no `from` / `to`.
#[utoipa::path(get, path = "/v1/analytics/products/top-bought-yesterday", tag = "analytics", params(YesterdayParams),
    responses((status = 200, body = TopProducts), (status = 403), (status = 404), (status = 422)))]
async fn top_bought_yesterday(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<YesterdayParams>,
) -> Result<Json<TopProducts>, ApiError> {
    let request = RangeRequest::yesterday(query.tz.as_deref());
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let limit = query.limit.unwrap_or(10);
    let plan = Plan::new(&range);
    let top = closed::top_products(
        &state.db,
        &state.closed_periods,
        &store,
        &plan,
        RankBy::Quantity,
        limit,
    )
    .await?;
    Ok(Json(top))
}

/// One product's sales.
///
/// Without `store`, the product's own store is used (a store-scoped key still
/// sees only its own). An unknown product, or one in another store, is a 404;
/// a product without sales in the range answers zeros.
#[utoipa::path(get, path = "/v1/analytics/products/{id}/sales", tag = "analytics",
    params(("id" = Uuid, Path, description = "The product's id"), RangeParams),
    responses((status = 200, body = ProductSales), (status = 403), (status = 404, description = "Unknown product or store"), (status = 422)))]
async fn product_sales(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<ProductSales>, ApiError> {
    principal.require(ANALYSTS)?;
    let product_id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("product"))?;
    let home: Option<String> = sqlx::query_scalar("select store_id from products where id = $1")
        .bind(product_id)
        .fetch_optional(&state.db)
        .await?;
    let home = home.ok_or(ApiError::NotFound("product"))?;
    if query.store.as_deref().is_some_and(|store| store != home) || !principal.can_see(&home) {
        return Err(ApiError::NotFound("product"));
    }
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, Some(&home), request).await?;
    let figures = sales::product_sales(&state.db, &store, &Plan::new(&range), product_id).await?;
    Ok(Json(figures))
}

/// Sales by category, highest revenue first.
///
/// `orders` counts orders with at least one line in the category (an order
/// with several categories counts in each); the category is the line's snapshot.
#[utoipa::path(get, path = "/v1/analytics/categories", tag = "analytics", params(RangeParams),
    responses((status = 200, body = CategoryList), (status = 403), (status = 404), (status = 422)))]
async fn list_categories(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<CategoryList>, ApiError> {
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let data = sales::category_sales(&state.db, &store, &Plan::new(&range), None).await?;
    Ok(Json(CategoryList { data }))
}

/// One category's sales; a category without sales answers zeros (categories
/// are not entities, so this is never a 404).
#[utoipa::path(get, path = "/v1/analytics/categories/{category}/revenue", tag = "analytics",
    params(("category" = String, Path, description = "The category as the line snapshots name it (exact match)"), RangeParams),
    responses((status = 200, body = CategorySales), (status = 403), (status = 404, description = "Unknown or unseen store"), (status = 422)))]
async fn category_revenue(
    State(state): State<AppState>,
    principal: Principal,
    Path(category): Path<String>,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<CategorySales>, ApiError> {
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let plan = Plan::new(&range);
    let found = sales::category_sales(&state.db, &store, &plan, Some(&category)).await?;
    let figures = found.into_iter().next().unwrap_or(CategorySales {
        category,
        revenue: crate::domain::Money::ZERO,
        orders: 0,
        quantity: 0,
    });
    Ok(Json(figures))
}

/// A customer's spending in the store (by the storefront's customer id).
///
/// A customer without orders in the range answers zeros and `null` times.
#[utoipa::path(get, path = "/v1/analytics/customers/{customer_id}/lifetime-value", tag = "analytics",
    params(("customer_id" = String, Path, description = "The storefront's customer id"), RangeParams),
    responses((status = 200, body = CustomerValue), (status = 403), (status = 404, description = "Unknown or unseen store"), (status = 422)))]
async fn customer_lifetime_value(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<CustomerValue>, ApiError> {
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let plan = Plan::new(&range);
    let value = customers::lifetime_value(&state.db, &store, &plan, &customer_id).await?;
    Ok(Json(value))
}

/// Sales by UTC hour, oldest first; hours without sales are left out.
///
/// `hour` is the start of a UTC hour. In zones whose offset is not a whole
/// number of hours, a range given as local dates clips its first and last hour.
#[utoipa::path(get, path = "/v1/analytics/sales/hourly", tag = "analytics", params(RangeParams),
    responses((status = 200, body = HourlySales), (status = 403), (status = 404), (status = 422)))]
async fn hourly_sales(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Response, ApiError> {
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let plan = HourPlan::new(&range);
    let json = closed_hours::hourly_sales(&state.db, &state.closed_hours, &store, &plan).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// Orders by status, revenue and average processing time.
///
/// Covers the orders created in the range. `by_status` and `total_orders`
/// count every order that is not deleted, cancelled ones included; `revenue`
/// counts the orders neither cancelled nor deleted (the sales figure);
/// `average_processing_seconds` is the mean of `completed_at - created_at`
/// over completed orders that are not deleted.
#[utoipa::path(get, path = "/v1/analytics/orders/summary", tag = "analytics", params(RangeParams),
    responses((status = 200, body = OrderSummary), (status = 403), (status = 404), (status = 422)))]
async fn order_summary(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<OrderSummary>, ApiError> {
    let request = query.range_request();
    let (store, range) = prepare(&state, &principal, query.store.as_deref(), request).await?;
    let figures = summary::order_summary(&state.db, &store, &Plan::new(&range)).await?;
    Ok(Json(figures))
}
