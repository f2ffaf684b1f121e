//! `/v1/orders/search`, `/v1/orders/export` and `/v1/search/*` handlers.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

use super::engine::{FacetField, SearchRequest, Sort, SortField};
use super::query;
use super::reconcile::{self, ReconcileReport};
use super::service::{self, SearchResponse};
use super::status::{self, SearchStatus};
use crate::http::auth::{Principal, Role};
use crate::http::error::{ApiError, Conflict};
use crate::http::extract::ValidQuery;
use crate::state::AppState;

/// Who may search.
pub const SEARCHERS: &[Role] = &[Role::Admin, Role::Support];
/// Largest page of hits.
pub const MAX_LIMIT: usize = 100;
/// Deepest hit reachable by paging.
pub const MAX_WINDOW: usize = 10_000;
/// Most hits skipped: one hit must still fit in the window.
const MAX_OFFSET: usize = MAX_WINDOW - 1;
/// Longest `fresh=true` wait.
const FRESH_DEADLINE: Duration = Duration::from_secs(5);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_orders))
        .routes(routes!(super::export::export_orders))
        .routes(routes!(search_status))
        .routes(routes!(reindex))
        .routes(routes!(reconcile_index))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text plus qualifiers (see the contract).
    #[serde(default)]
    pub q: String,
    /// `created_at`, `total` or `number`, with `:asc` or `:desc`; default relevance.
    pub sort: Option<String>,
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Hits to skip; `offset + limit` may be at most 10 000.
    #[validate(range(max = MAX_OFFSET))]
    #[param(maximum = 9999)]
    pub offset: Option<usize>,
    /// Comma-separated: status, category, store, country, tag.
    pub facets: Option<String>,
    #[serde(default)]
    pub include_deleted: bool,
    /// Wait (up to 5 s) until every change committed before the request is indexed.
    #[serde(default)]
    pub fresh: bool,
    /// Run this saved search (its id); `q` is ANDed to its query, and its sort
    /// applies unless `sort` is given.
    pub saved: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadParameter {
        field: field.into(),
        message: message.into(),
    }
}

pub fn parse_sort(text: Option<&str>) -> Result<Sort, ApiError> {
    let Some(text) = text.filter(|text| !text.is_empty() && *text != "relevance") else {
        return Ok(Sort::Relevance);
    };
    let (name, direction) = text.split_once(':').unwrap_or((text, "desc"));
    let field = match name {
        "created_at" => SortField::CreatedAt,
        "total" => SortField::Total,
        "number" => SortField::Number,
        _ => {
            return Err(bad(
                "sort",
                "must be created_at, total or number, optionally with :asc or :desc",
            ));
        }
    };
    let descending = match direction {
        "desc" => true,
        "asc" => false,
        _ => return Err(bad("sort", "the direction must be asc or desc")),
    };
    Ok(Sort::By { field, descending })
}

fn parse_facets(text: Option<&str>) -> Result<Vec<FacetField>, ApiError> {
    let Some(text) = text.filter(|text| !text.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut facets = Vec::new();
    for name in text.split(',') {
        let facet = FacetField::parse(name.trim()).ok_or_else(|| {
            bad(
                "facets",
                format!("unknown facet `{name}`; use status, category, store, country or tag"),
            )
        })?;
        if !facets.contains(&facet) {
            facets.push(facet);
        }
    }
    Ok(facets)
}

/// Builds the engine request: parsed query, the key's store scope, paging.
pub async fn build_request(
    state: &AppState,
    principal: &Principal,
    params: &SearchParams,
) -> Result<SearchRequest, ApiError> {
    let mut query =
        query::parse(&params.q, chrono::Utc::now()).map_err(|error| ApiError::InvalidQuery {
            message: error.message.clone(),
            position: error.position,
            token: error.token.clone(),
        })?;
    let mut sort = params.sort.clone();
    if let Some(id) = &params.saved {
        let id = uuid::Uuid::parse_str(id).map_err(|_| ApiError::NotFound("saved search"))?;
        let saved = crate::saved::get(&state.db, principal, id).await?;
        let mut combined = crate::saved::routes::parse_saved_query(&saved.q)?;
        combined.clauses.append(&mut query.clauses);
        query = combined;
        sort = sort.or(saved.sort);
    }
    let scope = principal.scope(state, None).await?;
    let limit = params.limit.unwrap_or(20);
    let offset = params.offset.unwrap_or(0);
    if offset + limit > MAX_WINDOW {
        return Err(bad(
            "offset",
            "offset + limit must be at most 10000; narrow the query or use export",
        ));
    }
    Ok(SearchRequest {
        query,
        store: scope.filter().map(str::to_string),
        include_deleted: params.include_deleted,
        sort: parse_sort(sort.as_deref())?,
        offset,
        limit,
        facets: parse_facets(params.facets.as_deref())?,
        after_number: None,
    })
}

/// Search orders the way staff think: free text with typos, identifiers, qualifiers.
#[utoipa::path(get, path = "/v1/orders/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResponse),
        (status = 400, description = "A bad qualifier or value, named with its position"),
        (status = 503, description = "The search engine is unreachable")))]
async fn search_orders(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(params): ValidQuery<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    principal.require(SEARCHERS)?;
    let request = build_request(&state, &principal, &params).await?;
    if params.fresh {
        status::wait_until_fresh(&state.db, FRESH_DEADLINE).await?;
    }
    Ok(Json(
        service::search(&state.db, &state.search, &request).await?,
    ))
}

/// The index's state: documents, backlog, lag, failures.
#[utoipa::path(get, path = "/v1/search/status", tag = "search",
    responses((status = 200, body = SearchStatus)))]
async fn search_status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<SearchStatus>, ApiError> {
    principal.require(SEARCHERS)?;
    let scope = principal.scope(&state, None).await?;
    let backlog = status::backlog(&state.db).await?;
    let reachable = state.search.is_reachable().await;
    let documents = if reachable {
        state.search.document_count().await.unwrap_or_default()
    } else {
        0
    };
    Ok(Json(SearchStatus {
        backend: state.search.backend(),
        documents,
        pending_changes: backlog.pending_changes,
        oldest_pending_age_ms: backlog.lag_ms,
        last_indexed_at: status::last_indexed_at(&state.db).await?,
        reachable,
        failed: status::failures(&state.db, scope.filter()).await?,
    }))
}

/// Rebuild the index into a fresh one and swap it in (admin). Answers at once;
/// search serves the old index until the swap.
#[utoipa::path(post, path = "/v1/search/reindex", tag = "search",
    responses((status = 202, description = "Rebuild started"), (status = 409, description = "A rebuild is already running")))]
async fn reindex(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require_global_admin()?;
    if !super::rebuild::start_in_background(&state) {
        return Err(ApiError::conflict(
            Conflict::ReindexRunning,
            "a rebuild is already running",
            json!({}),
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "started" }))).into_response())
}

/// Compare the index with the database; queue what differs, remove orphans (admin).
#[utoipa::path(post, path = "/v1/search/reconcile", tag = "search",
    responses((status = 200, body = ReconcileReport)))]
async fn reconcile_index(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ReconcileReport>, ApiError> {
    principal.require_global_admin()?;
    let report = reconcile::reconcile(&state.db, &state.search)
        .await
        .map_err(
            |error| match error.downcast::<super::engine::EngineError>() {
                Ok(engine) => service::engine_error(engine),
                Err(other) => ApiError::Internal(other),
            },
        )?;
    Ok(Json(report))
}
