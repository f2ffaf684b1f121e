//! `/v1/stores` handlers.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

use super::{NewStore, Store};
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::extract::{RawJson, ValidQuery};
use crate::http::idempotency::{IdempotencyKey, Replayable, run_idempotent};
use crate::http::pagination::{self, MAX_LIMIT, Page};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_store, list_stores))
        .routes(routes!(get_store))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListStores {
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Create a store (unscoped admin).
#[utoipa::path(post, path = "/v1/stores", tag = "stores", request_body = NewStore,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = Store), (status = 409, description = "Id taken"), (status = 422)))]
async fn create_store(
    State(state): State<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: RawJson<NewStore>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let new = body.value;
    run_idempotent(
        &state,
        &principal,
        key,
        "POST /v1/stores",
        &body.bytes,
        move |conn| {
            Box::pin(async move {
                let store = super::insert(conn, &new).await?;
                Replayable::created(&store, &format!("/v1/stores/{}", store.id))
            })
        },
    )
    .await
}

/// List the stores this key can see.
#[utoipa::path(get, path = "/v1/stores", tag = "stores", params(ListStores),
    responses((status = 200, body = Page<Store>)))]
async fn list_stores(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<ListStores>,
) -> Result<Json<Page<Store>>, ApiError> {
    let scope = principal.scope(&state, None).await?;
    let after: Option<String> = pagination::decode_cursor(query.cursor.as_deref())?;
    let limit = pagination::page_limit(query.limit);
    let rows = super::list(&state.db, &scope, after.as_deref(), limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |store| store.id.clone())))
}

/// Get one store.
#[utoipa::path(get, path = "/v1/stores/{id}", tag = "stores",
    responses((status = 200, body = Store), (status = 404)))]
async fn get_store(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Store>, ApiError> {
    let scope = principal.scope(&state, None).await?;
    Ok(Json(super::get(&state.db, &scope, &id).await?))
}
