//! `/v1/analytics/*` handlers: `analyst` and `admin` keys only; every route
//! takes `store` (default: the key's store, else `default`; a store the key
//! cannot see is a 404) and a range (see [`super::range`]). Every answer
//! carries `as_of` and `lag_ms` ([`super::freshness`]), read before the
//! figures; `fresh=true` first waits for the projector (up to 5 s).
//! `/v1/analytics/status` reports the projector itself.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::customers::{self, CustomerValue};
use super::freshness::{self, Fresh, Freshness, ProjectionStatus};
use super::hourly::{HourPlan, HourlySales};
use super::kept;
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
        .routes(routes!(analytics_status))
}

#[utoipa::path(get, path = "/v1/analytics/status", tag = "analytics",
    responses((status = 200, body = ProjectionStatus), (status = 403, description = "Not an analyst or admin key")))]
async fn analytics_status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ProjectionStatus>, ApiError> {
    principal.require(ANALYSTS)?;
    Ok(Json(freshness::status(&state.db).await?))
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
    /// Wait (up to 5 s) until the projection has passed this request's start.
    fresh: Option<bool>,
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
    /// Wait (up to 5 s) until the projection has passed this request's start.
    fresh: Option<bool>,
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
    /// Wait (up to 5 s) until the projection has passed this request's start.
    fresh: Option<bool>,
    /// 1–100, default 10.
    #[validate(range(min = 1, max = MAX_TOP))]
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

impl RangeParams {
    fn range_request(&self) -> Result<RangeRequest, ApiError> {
        RangeRequest::parse(self.from.as_deref(), self.to.as_deref(), self.tz.as_deref())
    }

    /// [`prepare`] for the store, range and `fresh` asked for.
    async fn prepare(
        &self,
        state: &AppState,
        principal: &Principal,
    ) -> Result<(String, Resolved, Freshness), ApiError> {
        let request = self.range_request();
        prepare(state, principal, self.store.as_deref(), request, self.fresh).await
    }
}

impl TopParams {
    /// [`prepare`] for the store, range and `fresh` asked for.
    async fn prepare(
        &self,
        state: &AppState,
        principal: &Principal,
    ) -> Result<(String, Resolved, Freshness), ApiError> {
        let request =
            RangeRequest::parse(self.from.as_deref(), self.to.as_deref(), self.tz.as_deref());
        prepare(state, principal, self.store.as_deref(), request, self.fresh).await
    }
}

/// Checks the role and resolves the store and the range. The role is checked
/// first: a key without it learns nothing about stores.
/// The store, the resolved range and how fresh the rollups are (read before
/// them, waiting first when `fresh`).
async fn prepare(
    state: &AppState,
    principal: &Principal,
    store: Option<&str>,
    request: Result<RangeRequest, ApiError>,
    fresh: Option<bool>,
) -> Result<(String, Resolved, Freshness), ApiError> {
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
    let freshness = freshness::freshness(&state.db, fresh.unwrap_or(false)).await?;
    Ok((store, range, freshness))
}

/// Top products by quantity, revenue or profit.
///
/// Sales figures count orders that are neither cancelled nor deleted; a range
/// selects orders by creation time. `profit` sums the lines whose snapshot has
/// a cost (`null` if none has); `lines_without_cost` counts the other lines in
/// the range, over every product, so profit is never computed with a made-up
/// zero cost. `sku` and `name` are the catalog's current ones.
#[utoipa::path(get, path = "/v1/analytics/products/top", tag = "analytics", params(TopParams),
    responses((status = 200, body = Fresh<TopProducts>), (status = 400, description = "Unknown parameter or bad `by`/`limit`"),
        (status = 403, description = "Not an analyst or admin key"), (status = 404, description = "Unknown or unseen store"),
        (status = 422, description = "Bad `from`, `to` or `tz`, or `from` after `to`")))]
async fn top_products(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<TopParams>,
) -> Result<Json<Fresh<TopProducts>>, ApiError> {
    let (store, range, freshness) = query.prepare(&state, &principal).await?;
    let by = query.by.unwrap_or_default();
    let limit = query.limit.unwrap_or(10);
    let plan = Plan::new(&range);
    let top =
        kept::products::top_products(&state.db, &state.kept_products, &store, &plan, by, limit)
            .await?;
    Ok(Json(Fresh::new(top, freshness)))
}

/// Top products by quantity over the store's local yesterday.
///
/// Yesterday is the local calendar day before today in the store's time zone
/// (or `tz`): 23 or 25 hours long on DST change days. Takes no `from` / `to`.
#[utoipa::path(get, path = "/v1/analytics/products/top-bought-yesterday", tag = "analytics", params(YesterdayParams),
    responses((status = 200, body = Fresh<TopProducts>), (status = 403), (status = 404), (status = 422)))]
async fn top_bought_yesterday(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<YesterdayParams>,
) -> Result<Json<Fresh<TopProducts>>, ApiError> {
    let request = RangeRequest::yesterday(query.tz.as_deref());
    let (store, range, freshness) = prepare(
        &state,
        &principal,
        query.store.as_deref(),
        request,
        query.fresh,
    )
    .await?;
    let limit = query.limit.unwrap_or(10);
    let plan = Plan::new(&range);
    let top = kept::products::top_products(
        &state.db,
        &state.kept_products,
        &store,
        &plan,
        RankBy::Quantity,
        limit,
    )
    .await?;
    Ok(Json(Fresh::new(top, freshness)))
}

/// One product's sales.
///
/// Without `store`, the product's own store is used (a store-scoped key still
/// sees only its own). An unknown product, or one in another store, is a 404;
/// a product without sales in the range answers zeros.
#[utoipa::path(get, path = "/v1/analytics/products/{id}/sales", tag = "analytics",
    params(("id" = Uuid, Path, description = "The product's id"), RangeParams),
    responses((status = 200, body = Fresh<ProductSales>), (status = 403), (status = 404, description = "Unknown product or store"), (status = 422)))]
async fn product_sales(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<Fresh<ProductSales>>, ApiError> {
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
    let (store, range, freshness) =
        prepare(&state, &principal, Some(&home), request, query.fresh).await?;
    let figures = sales::product_sales(&state.db, &store, &Plan::new(&range), product_id).await?;
    Ok(Json(Fresh::new(figures, freshness)))
}

/// Sales by category, highest revenue first.
///
/// `orders` counts orders with at least one line in the category (an order
/// with several categories counts in each); the category is the line's snapshot.
#[utoipa::path(get, path = "/v1/analytics/categories", tag = "analytics", params(RangeParams),
    responses((status = 200, body = Fresh<CategoryList>), (status = 403), (status = 404), (status = 422)))]
async fn list_categories(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<Fresh<CategoryList>>, ApiError> {
    let (store, range, freshness) = query.prepare(&state, &principal).await?;
    let data = sales::category_sales(&state.db, &store, &Plan::new(&range), None).await?;
    Ok(Json(Fresh::new(CategoryList { data }, freshness)))
}

/// One category's sales; a category without sales answers zeros (categories
/// are not entities, so this is never a 404).
#[utoipa::path(get, path = "/v1/analytics/categories/{category}/revenue", tag = "analytics",
    params(("category" = String, Path, description = "The category as the line snapshots name it (exact match)"), RangeParams),
    responses((status = 200, body = Fresh<CategorySales>), (status = 403), (status = 404, description = "Unknown or unseen store"), (status = 422)))]
async fn category_revenue(
    State(state): State<AppState>,
    principal: Principal,
    Path(category): Path<String>,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<Fresh<CategorySales>>, ApiError> {
    let (store, range, freshness) = query.prepare(&state, &principal).await?;
    let plan = Plan::new(&range);
    let found = sales::category_sales(&state.db, &store, &plan, Some(&category)).await?;
    let figures = found.into_iter().next().unwrap_or(CategorySales {
        category,
        revenue: crate::domain::Money::ZERO,
        orders: 0,
        quantity: 0,
    });
    Ok(Json(Fresh::new(figures, freshness)))
}

/// A customer's spending in the store (by the storefront's customer id).
///
/// A customer without orders in the range answers zeros and `null` times.
#[utoipa::path(get, path = "/v1/analytics/customers/{customer_id}/lifetime-value", tag = "analytics",
    params(("customer_id" = String, Path, description = "The storefront's customer id"), RangeParams),
    responses((status = 200, body = Fresh<CustomerValue>), (status = 403), (status = 404, description = "Unknown or unseen store"), (status = 422)))]
async fn customer_lifetime_value(
    State(state): State<AppState>,
    principal: Principal,
    Path(customer_id): Path<String>,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<Fresh<CustomerValue>>, ApiError> {
    let (store, range, freshness) = query.prepare(&state, &principal).await?;
    let plan = Plan::new(&range);
    let value = customers::lifetime_value(&state.db, &store, &plan, &customer_id).await?;
    Ok(Json(Fresh::new(value, freshness)))
}

/// Sales by UTC hour, oldest first; hours without sales are left out.
///
/// `hour` is the start of a UTC hour. In zones whose offset is not a whole
/// number of hours, a range given as local dates clips its first and last hour.
#[utoipa::path(get, path = "/v1/analytics/sales/hourly", tag = "analytics", params(RangeParams),
    responses((status = 200, body = Fresh<HourlySales>), (status = 403), (status = 404), (status = 422)))]
async fn hourly_sales(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Response, ApiError> {
    let (store, range, freshness) = query.prepare(&state, &principal).await?;
    let plan = HourPlan::new(&range);
    let json = kept::hours::hourly_sales(&state.db, &state.kept_hours, &store, &plan).await?;
    let json = freshness::spliced(json, &freshness);
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
    responses((status = 200, body = Fresh<OrderSummary>), (status = 403), (status = 404), (status = 422)))]
async fn order_summary(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<RangeParams>,
) -> Result<Json<Fresh<OrderSummary>>, ApiError> {
    let (store, range, freshness) = query.prepare(&state, &principal).await?;
    let figures = summary::order_summary(&state.db, &store, &Plan::new(&range)).await?;
    Ok(Json(Fresh::new(figures, freshness)))
}
