//! `/v1/events`: the pull feed (admin; a store-scoped admin sees its store).
//!
//! These routes are registered outside the per-request database permit
//! (`http::api`): a long poll waits without holding a connection or a permit,
//! and takes a permit only for each read.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tokio::sync::SemaphorePermit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

use super::feed::{self, Filter, LogStatus, Position};
use super::{Event, EventType};
use crate::http::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Path, ValidQuery};
use crate::http::pagination::{self, MAX_LIMIT};
use crate::state::AppState;

/// The longest long poll, in seconds.
pub const MAX_WAIT_SECONDS: i64 = 30;
/// How often a long poll looks for new events.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(events_status))
        .routes(routes!(get_event))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    /// A `next_cursor` this feed returned: read on after it. Absent: from the
    /// oldest event retained. A cursor older than retention answers `410`.
    after: Option<String>,
    /// Comma-separated event types to return, e.g. `order.created,order.cancelled`.
    types: Option<String>,
    /// Only this store's events (a store-scoped key sees only its own anyway).
    store: Option<String>,
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Seconds to wait for events when none are ready yet (long poll).
    #[validate(range(min = 0, max = MAX_WAIT_SECONDS))]
    #[param(minimum = 0, maximum = 30)]
    wait: Option<i64>,
}

/// A page of the feed; `next_cursor` is always set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub data: Vec<Event>,
    /// Pass as `after` to read on, also when `data` is empty.
    pub next_cursor: String,
}

/// A permit for one read, taken in turn with every other request's.
async fn database_permit(state: &AppState) -> Result<SemaphorePermit<'_>, ApiError> {
    state
        .db_permits
        .acquire()
        .await
        .map_err(|_| ApiError::ServiceUnavailable("shutting down".into()))
}

/// The wire names in `types`, each checked; a bad one is a 400 naming `types`.
fn parse_types(types: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(types) = types else {
        return Ok(None);
    };
    types
        .split(',')
        .map(|name| {
            EventType::parse(name.trim())
                .map(|kind| kind.as_str().to_string())
                .ok_or_else(|| ApiError::BadParameter {
                    field: "types".into(),
                    message: format!("`{name}` is not an event type"),
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A cursor `after`; anything this feed did not issue is a 400 naming `after`.
fn parse_after(after: Option<&str>) -> Result<Option<Position>, ApiError> {
    let position: Option<Position> =
        pagination::decode_cursor(after).map_err(|_| invalid_after())?;
    match position {
        Some(Position(xact, id)) if xact < 0 || id < 0 => Err(invalid_after()),
        position => Ok(position),
    }
}

fn invalid_after() -> ApiError {
    ApiError::BadParameter {
        field: "after".into(),
        message: "is not a cursor this feed returned".into(),
    }
}

/// Read the event feed in commit order.
///
/// The feed has no gaps: an event that commits after a reader passed a smaller
/// id is still ahead of its cursor, and one subject's events come in
/// `subject_version` order. With `wait`, an empty answer waits up to that many
/// seconds for events.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(ListEvents),
    responses((status = 200, body = EventPage), (status = 400), (status = 404, description = "Unknown or unseen store"),
        (status = 410, description = "The cursor is older than retention")))]
async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(query): ValidQuery<ListEvents>,
) -> Result<Json<EventPage>, ApiError> {
    principal.require(&[Role::Admin])?;
    let filter = Filter {
        types: parse_types(query.types.as_deref())?,
        scope: principal.scope(&state, query.store.as_deref()).await?,
    };
    let mut after = parse_after(query.after.as_deref())?;
    let limit = pagination::page_limit(query.limit);
    let wait = Duration::from_secs(query.wait.unwrap_or(0).unsigned_abs());
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let page = {
            let _permit = database_permit(&state).await?;
            let mut conn = state.db.acquire().await?;
            feed::page(&mut conn, after, &filter, limit).await?
        };
        let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
        if !page.events.is_empty()
            || draining
            || tokio::time::Instant::now() + POLL_INTERVAL > deadline
        {
            return Ok(Json(EventPage {
                data: page.events,
                next_cursor: pagination::encode_cursor(&page.next),
            }));
        }
        after = Some(page.next);
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Get one event.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "An event id, `evt_…`")),
    responses((status = 200, body = Event), (status = 404)))]
async fn get_event(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Event>, ApiError> {
    principal.require(&[Role::Admin])?;
    let scope = principal.scope(&state, None).await?;
    let id = super::parse_id(&id).ok_or(ApiError::NotFound("event"))?;
    let _permit = database_permit(&state).await?;
    Ok(Json(feed::get(&state.db, &scope, id).await?))
}

/// The log's head, its oldest retained event, its size, the RabbitMQ relay's
/// lag (once a relay has run) and, for keys without a store scope, webhook
/// delivery's lag, as the key's scope sees them.
#[utoipa::path(get, path = "/v1/events/status", tag = "events",
    responses((status = 200, body = LogStatus)))]
async fn events_status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<LogStatus>, ApiError> {
    principal.require(&[Role::Admin])?;
    let scope = principal.scope(&state, None).await?;
    let _permit = database_permit(&state).await?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(feed::status(&mut conn, &scope).await?))
}
