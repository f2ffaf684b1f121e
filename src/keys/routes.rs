//! `/v1/api-keys` handlers: unscoped admins manage keys; any key reads itself.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::{ApiKey, CreatedApiKey, NewApiKey};
use crate::http::auth::{Principal, Role};
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
        .routes(routes!(get_own_api_key))
}

/// The key making the request, as `GET /v1/api-keys/me` shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnApiKey {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// The one store the key is scoped to; `null` for every store.
    pub store: Option<String>,
}

/// The calling key: its role and store scope (any key; the console asks it
/// once after sign-in to show only what the key may do).
#[utoipa::path(get, path = "/v1/api-keys/me", tag = "api-keys",
    responses((status = 200, body = OwnApiKey), (status = 401)))]
async fn get_own_api_key(principal: Principal) -> Json<OwnApiKey> {
    Json(OwnApiKey {
        id: principal.key_id,
        name: principal.name,
        role: principal.role,
        store: principal.store,
    })
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
