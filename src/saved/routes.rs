//! `/v1/saved-searches` handlers: admin and support keys save, list, rename,
//! share and delete searches; the owner or an admin changes one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::{NewSavedSearch, SavedSearch, SavedSearchPatch};
use futures::StreamExt;

use crate::http::auth::Principal;
use crate::http::conditional::{IfMatch, etag};
use crate::http::error::ApiError;
use crate::http::extract::{Path, RawJson, ValidJson, ValidQuery};
use crate::http::idempotency::{IdempotencyKey, Replayable, run_idempotent};
use crate::http::pagination::{self, MAX_LIMIT, Page};
use crate::search::engine::{SearchRequest, Sort};
use crate::search::query::{self, Query};
use crate::search::routes::{SEARCHERS, parse_sort};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_saved_search, list_saved_searches))
        .routes(routes!(
            get_saved_search,
            update_saved_search,
            delete_saved_search
        ))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSavedSearches {
    /// Add each search's current `count` of matching orders.
    #[serde(default)]
    counts: bool,
    #[validate(range(min = 1, max = MAX_LIMIT))]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A saved query as the search route parses it; a bad one is a 422 naming `q`
/// (it is a body field here, where the search URL's own `q` is a 400).
pub fn parse_saved_query(text: &str) -> Result<Query, ApiError> {
    query::parse(text, chrono::Utc::now()).map_err(|error| {
        ApiError::invalid(
            "q",
            format!(
                "{} (at position {}, `{}`)",
                error.message, error.position, error.token
            ),
        )
    })
}

fn check_sort(sort: Option<&str>) -> Result<(), ApiError> {
    parse_sort(sort).map(|_| ()).map_err(|_| {
        ApiError::invalid(
            "sort",
            "must be created_at, total or number, optionally with :asc or :desc",
        )
    })
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("saved search"))
}

/// Save a search (admin, support); a bad `q` → 422 naming `q`, a name the key
/// already uses → 409.
#[utoipa::path(post, path = "/v1/saved-searches", tag = "saved-searches", request_body = NewSavedSearch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = SavedSearch), (status = 409, description = "The name is taken by another of the key's searches"), (status = 422)))]
async fn create_saved_search(
    State(state): State<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: RawJson<NewSavedSearch>,
) -> Result<Response, ApiError> {
    principal.require(SEARCHERS)?;
    let new = body.value;
    parse_saved_query(&new.q)?;
    check_sort(new.sort.as_deref())?;
    let owner = principal.clone();
    run_idempotent(
        &state,
        &principal,
        key,
        "POST /v1/saved-searches",
        &body.bytes,
        move |conn| {
            Box::pin(async move {
                let saved = super::insert(conn, &owner, &new).await?;
                let location = format!("/v1/saved-searches/{}", saved.id);
                let (etag_name, etag_value) = etag(saved.version);
                Ok(Replayable::created(&saved, &location)?.with_header(etag_name, etag_value))
            })
        },
    )
    .await
}

/// The key's own saved searches and those shared with its store, oldest first.
#[utoipa::path(get, path = "/v1/saved-searches", tag = "saved-searches", params(ListSavedSearches),
    responses((status = 200, body = Page<SavedSearch>)))]
async fn list_saved_searches(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(params): ValidQuery<ListSavedSearches>,
) -> Result<Json<Page<SavedSearch>>, ApiError> {
    principal.require(SEARCHERS)?;
    let after: Option<Uuid> = pagination::decode_cursor(params.cursor.as_deref())?;
    let limit = pagination::page_limit(params.limit);
    let rows = super::list(&state.db, &principal, after, limit).await?;
    let mut page = Page::from_rows(rows, limit, |saved| saved.id);
    if params.counts {
        let scope = principal.scope(&state, None).await?;
        let store = scope.filter().map(str::to_string);
        let queries: Vec<String> = page.data.iter().map(|saved| saved.q.clone()).collect();
        let counts: Vec<Option<u64>> = futures::stream::iter(queries)
            .map(|q| {
                let (state, store) = (state.clone(), store.clone());
                async move { count(&state, store.as_deref(), &q).await }
            })
            .buffered(CONCURRENT_COUNTS)
            .collect()
            .await;
        for (saved, count) in page.data.iter_mut().zip(counts) {
            saved.count = Some(count);
        }
    }
    Ok(Json(page))
}

/// Saved searches counted at once for one list (a page holds up to 200).
const CONCURRENT_COUNTS: usize = 4;

/// How many orders a saved query finds now, in the key's store scope; `None`
/// when it cannot be counted (the list still answers, that count `null`).
async fn count(state: &AppState, store: Option<&str>, q: &str) -> Option<u64> {
    match count_matches(state, store, q).await {
        Ok(count) => Some(count),
        Err(error) => {
            tracing::warn!(error = %error, q, "a saved search could not be counted");
            None
        }
    }
}

async fn count_matches(state: &AppState, store: Option<&str>, q: &str) -> Result<u64, ApiError> {
    let request = SearchRequest {
        query: parse_saved_query(q)?,
        store: store.map(str::to_string),
        include_deleted: false,
        sort: Sort::Relevance,
        offset: 0,
        limit: 1,
        facets: Vec::new(),
        after_number: None,
    };
    let found = state.search.search(&request).await;
    Ok(found.map_err(crate::search::service::engine_error)?.total)
}

fn saved_response(saved: &SavedSearch) -> Response {
    ([etag(saved.version)], Json(saved)).into_response()
}

/// One saved search the key may see, with its `ETag`.
#[utoipa::path(get, path = "/v1/saved-searches/{id}", tag = "saved-searches",
    responses((status = 200, body = SavedSearch), (status = 404)))]
async fn get_saved_search(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(SEARCHERS)?;
    let saved = super::get(&state.db, &principal, parse_id(&id)?).await?;
    Ok(saved_response(&saved))
}

/// Rename, re-query, re-sort or (un)share a saved search (its owner or an
/// admin); `If-Match` makes it conditional.
#[utoipa::path(patch, path = "/v1/saved-searches/{id}", tag = "saved-searches", request_body = SavedSearchPatch,
    responses((status = 200, body = SavedSearch), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
async fn update_saved_search(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    ValidJson(patch): ValidJson<SavedSearchPatch>,
) -> Result<Response, ApiError> {
    principal.require(SEARCHERS)?;
    if let Some(q) = &patch.q {
        parse_saved_query(q)?;
    }
    if let Some(Some(sort)) = &patch.sort {
        check_sort(Some(sort))?;
    }
    let id = parse_id(&id)?;
    let saved = super::update(&state.db, &principal, id, &patch, if_match.0).await?;
    Ok(saved_response(&saved))
}

/// Delete a saved search (its owner or an admin); `If-Match` makes it conditional.
#[utoipa::path(delete, path = "/v1/saved-searches/{id}", tag = "saved-searches",
    responses((status = 204), (status = 403), (status = 404), (status = 412)))]
async fn delete_saved_search(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    principal.require(SEARCHERS)?;
    super::delete(&state.db, &principal, parse_id(&id)?, if_match.0).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
