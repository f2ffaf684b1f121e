//! `/v1/api-keys` handlers (unscoped admin only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::{ApiKey, CreatedApiKey, NewApiKey};
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::extract::{RawJson, ValidQuery};
use crate::http::idempotency::{IdempotencyKey, Replayable, run_idempotent};
use crate::http::pagination::{self, MAX_LIMIT, Page};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListApiKeys {
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Create a key; its secret (`key`) is in this response only.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = NewApiKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = CreatedApiKey), (status = 422)))]
async fn create_api_key(
    State(state): State<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: RawJson<NewApiKey>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let new = body.value;
    run_idempotent(
        &state,
        &principal,
        key,
        "POST /v1/api-keys",
        &body.bytes,
        move |conn| {
            Box::pin(async move {
                let created = super::insert(conn, &new, None).await?;
                Replayable::created(&created, &format!("/v1/api-keys/{}", created.api_key.id))
            })
        },
    )
    .await
}

/// List keys, revoked ones included (with `revoked_at`).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(ListApiKeys),
    responses((status = 200, body = Page<ApiKey>)))]
async fn list_api_keys(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<ListApiKeys>,
) -> Result<Json<Page<ApiKey>>, ApiError> {
    principal.require_global_admin()?;
    let after: Option<Uuid> = pagination::decode_cursor(query.cursor.as_deref())?;
    let limit = pagination::page_limit(query.limit);
    let rows = super::list(&state.db, after, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |key| key.id)))
}

/// Revoke a key, with immediate effect.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys",
    responses((status = 204), (status = 404)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_global_admin()?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("api key"))?;
    super::revoke(&state.db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
