//! `/v1/products` handlers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::{NewProduct, Product, ProductFilter, ProductPatch};
use crate::http::auth::{Principal, Role};
use crate::http::conditional::{IfMatch, etag};
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::extract::{RawJson, ValidJson, ValidQuery};
use crate::http::idempotency::{IdempotencyKey, Replayable, run_idempotent};
use crate::http::pagination::{self, MAX_LIMIT, Page};
use crate::state::AppState;

/// Who may read the catalog: every role.
const READERS: &[Role] = &[Role::Admin, Role::Writer, Role::Support, Role::Analyst];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(get_product, update_product, delete_product))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListProducts {
    store: Option<String>,
    category: Option<String>,
    active: Option<bool>,
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("product"))
}

fn product_response(status: StatusCode, product: &Product) -> Response {
    (status, [etag(product.version)], Json(product)).into_response()
}

/// Create a product (admin).
#[utoipa::path(post, path = "/v1/products", tag = "products", request_body = NewProduct,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = Product), (status = 409, description = "SKU taken in this store"), (status = 422)))]
async fn create_product(
    State(state): State<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: RawJson<NewProduct>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let new = body.value;
    let store = principal
        .store_for_write(&state, new.store.as_deref())
        .await?;
    run_idempotent(
        &state,
        &principal,
        key,
        "POST /v1/products",
        &body.bytes,
        move |conn| {
            Box::pin(async move {
                let product = super::insert(conn, &store, &new).await?;
                let location = format!("/v1/products/{}", product.id);
                let (etag_name, etag_value) = etag(product.version);
                Ok(Replayable::created(&product, &location)?.with_header(etag_name, etag_value))
            })
        },
    )
    .await
}

/// List products, oldest first.
#[utoipa::path(get, path = "/v1/products", tag = "products", params(ListProducts),
    responses((status = 200, body = Page<Product>)))]
async fn list_products(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<ListProducts>,
) -> Result<Json<Page<Product>>, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, query.store.as_deref()).await?;
    let after: Option<Uuid> = pagination::decode_cursor(query.cursor.as_deref())?;
    let limit = pagination::page_limit(query.limit);
    let filter = ProductFilter {
        category: query.category.as_deref(),
        active: query.active,
    };
    let rows = super::list(&state.db, &scope, &filter, after, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |product| product.id)))
}

/// Get a product.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products",
    responses((status = 200, body = Product), (status = 404)))]
async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(READERS)?;
    let scope = principal.scope(&state, None).await?;
    let product = super::get(&state.db, &scope, parse_id(&id)?).await?;
    Ok(product_response(StatusCode::OK, &product))
}

/// Update a product (admin); `If-Match` makes it conditional.
#[utoipa::path(patch, path = "/v1/products/{id}", tag = "products", request_body = ProductPatch,
    responses((status = 200, body = Product), (status = 404), (status = 409), (status = 412), (status = 422)))]
async fn update_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    ValidJson(patch): ValidJson<ProductPatch>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let scope = principal.scope(&state, None).await?;
    let product = super::update(&state.db, &scope, parse_id(&id)?, &patch, if_match.0).await?;
    Ok(product_response(StatusCode::OK, &product))
}

/// Deactivate a product (admin). Orders keep their snapshots; idempotent.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "products",
    responses((status = 200, body = Product), (status = 404)))]
async fn delete_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let scope = principal.scope(&state, None).await?;
    let deactivate = ProductPatch {
        active: Some(false),
        ..ProductPatch::default()
    };
    let product = super::update(&state.db, &scope, parse_id(&id)?, &deactivate, if_match.0).await?;
    Ok(product_response(StatusCode::OK, &product))
}
