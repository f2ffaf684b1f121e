//! `/v1/webhooks` handlers (admin without a store scope): register, list,
//! change, pause, delete and rotate endpoints; list and retry deliveries.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::store::{self, Change, Registration};
use super::{Delivery, NewWebhook, Webhook, WebhookPatch, WebhookWithSecret};
use crate::http::auth::Principal;
use crate::http::conditional::{IfMatch, etag};
use crate::http::error::ApiError;
use crate::http::extract::{Path, RawJson, ValidJson, ValidQuery};
use crate::http::idempotency::{IdempotencyKey, Replayable, run_idempotent};
use crate::http::pagination::{self, MAX_LIMIT, Page};
use crate::state::AppState;

/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Delivery states a list may be narrowed to.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// Only deliveries in this state.
    #[param(inline)]
    status: Option<DeliveryStatus>,
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("webhook"))
}

fn webhook_response(
    status: StatusCode,
    webhook: &Webhook,
    body: &impl serde::Serialize,
) -> Response {
    (status, [etag(webhook.version)], Json(body)).into_response()
}

/// Register an endpoint. The answer holds its `whsec_…` signing secret,
/// shown only here (and on rotation). A URL that is not `http`/`https`,
/// carries credentials or names a host outside the deployment's allow-list
/// (`ORDERSEARCH_WEBHOOK_ALLOWED_HOSTS`) → 422 naming `url`.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = WebhookWithSecret), (status = 403), (status = 409), (status = 422)))]
async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: RawJson<NewWebhook>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let new = body.value;
    let registration = Registration {
        url: super::check_url(&new.url, &state.webhooks)?,
        types: super::check_types(&new.types)?,
        store: new.store,
        description: new.description,
    };
    run_idempotent(
        &state,
        &principal,
        key,
        "POST /v1/webhooks",
        &body.bytes,
        move |conn| {
            Box::pin(async move {
                let created = store::insert(conn, &registration).await?;
                let location = format!("/v1/webhooks/{}", created.webhook.id);
                let (etag_name, etag_value) = etag(created.webhook.version);
                Ok(Replayable::created(&created, &location)?.with_header(etag_name, etag_value))
            })
        },
    )
    .await
}

/// Every endpoint, oldest first (secrets are never listed).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(ListParams),
    responses((status = 200, body = Page<Webhook>), (status = 403)))]
async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(params): ValidQuery<ListParams>,
) -> Result<Json<Page<Webhook>>, ApiError> {
    principal.require_global_admin()?;
    let after: Option<Uuid> = pagination::decode_cursor(params.cursor.as_deref())?;
    let limit = pagination::page_limit(params.limit);
    let rows = store::list(&state.db, after, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |webhook| webhook.id)))
}

/// One endpoint, with its `ETag`; a disabled one says why in `disabled_reason`.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks",
    responses((status = 200, body = Webhook), (status = 403), (status = 404)))]
async fn get_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let webhook = store::get(&state.db, parse_id(&id)?).await?;
    Ok(webhook_response(StatusCode::OK, &webhook, &webhook))
}

/// Change an endpoint's URL, types or description, or pause, resume
/// (`status: enabled`, which also re-enables a disabled one) or disable it;
/// `If-Match` makes it conditional.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookPatch,
    responses((status = 200, body = Webhook), (status = 403), (status = 404), (status = 412), (status = 422)))]
async fn update_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    ValidJson(patch): ValidJson<WebhookPatch>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let id = parse_id(&id)?;
    let change = Change {
        url: patch
            .url
            .as_deref()
            .map(|url| super::check_url(url, &state.webhooks))
            .transpose()?,
        types: patch.types.as_deref().map(super::check_types).transpose()?,
        description: patch.description,
        status: patch.status,
    };
    let webhook = store::update(&state.db, id, &change, if_match.0).await?;
    Ok(webhook_response(StatusCode::OK, &webhook, &webhook))
}

/// Delete an endpoint and its delivery history; `If-Match` makes it conditional.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    responses((status = 204), (status = 403), (status = 404), (status = 412)))]
async fn delete_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    store::delete(&state.db, parse_id(&id)?, if_match.0).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replace the signing secret; the answer shows the new one once. For 24 h
/// deliveries carry a signature with each secret (space separated), so a
/// receiver can switch without missing a delivery.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    responses((status = 200, body = WebhookWithSecret), (status = 403), (status = 404)))]
async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let rotated = store::rotate_secret(&state.db, parse_id(&id)?, ROTATION_OVERLAP).await?;
    Ok(webhook_response(StatusCode::OK, &rotated.webhook, &rotated))
}

/// An endpoint's deliveries, newest first: state, attempts, the last answer's
/// status code, error and latency.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(ListDeliveries),
    responses((status = 200, body = Page<Delivery>), (status = 403), (status = 404)))]
async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ValidQuery(params): ValidQuery<ListDeliveries>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    principal.require_global_admin()?;
    let webhook = store::get(&state.db, parse_id(&id)?).await?;
    let before: Option<i64> = pagination::decode_cursor(params.cursor.as_deref())?;
    let limit = pagination::page_limit(params.limit);
    let status = params.status.map(|status| match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    });
    let rows = store::deliveries(&state.db, webhook.id, status, before, limit).await?;
    Ok(Json(Page::from_rows(rows, limit, |delivery| {
        crate::events::parse_id(&delivery.event_id).unwrap_or_default()
    })))
}

/// Send a delivery again now (delivered or failed ones too), with a fresh
/// 24 h retry window. `409` when its event is past retention.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("delivery_id" = String, Path, description = "A delivery id, `whd_…`")),
    responses((status = 202, body = Delivery), (status = 403), (status = 404), (status = 409)))]
async fn retry_delivery(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    let webhook = parse_id(&id)?;
    let delivery = super::parse_delivery_id(&delivery_id).ok_or(ApiError::NotFound("delivery"))?;
    let retried =
        store::retry_delivery(&state.db, webhook, delivery, state.webhooks.give_up_after).await?;
    Ok((StatusCode::ACCEPTED, Json(retried)).into_response())
}
