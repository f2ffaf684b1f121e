//! Answering a staff search: parse, scope, ask the engine, mark stale hits, and
//! find exact identifiers (number, UUID, email) in PostgreSQL even before they
//! are indexed.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::document::{self, DocumentCustomer, OrderDocument};
use super::engine::{EngineError, EngineResults, SearchEngine, SearchRequest};
use super::query::{ClauseKind, Query};
use super::status::Backlog;
use crate::domain::Money;
use crate::http::error::ApiError;

/// A line item as shown in a hit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HitItem {
    pub sku: String,
    pub name: String,
    pub quantity: i32,
}

/// One search hit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub id: Uuid,
    pub number: i64,
    pub store: String,
    pub status: String,
    #[schema(value_type = Object)]
    pub customer: DocumentCustomer,
    pub total: Money,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub items: Vec<HitItem>,
    pub tags: Vec<String>,
    pub deleted: bool,
    /// The order version this hit was indexed at.
    pub version: i32,
    /// True when the database already holds a newer version.
    pub stale: bool,
    /// Matched fields with `<em>` around the matching words (HTML-escaped).
    pub highlights: BTreeMap<String, String>,
}

/// Where the index stands, as every search reports.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndexState {
    pub backend: &'static str,
    #[serde(flatten)]
    pub backlog: Backlog,
}

/// The search response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub limit: usize,
    pub offset: usize,
    #[schema(value_type = Object)]
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    pub took_ms: u64,
    pub index: IndexState,
}

fn hit(
    document: OrderDocument,
    highlights: BTreeMap<String, String>,
    current_version: Option<i32>,
) -> Hit {
    Hit {
        stale: current_version.is_some_and(|current| current > document.version),
        id: document.id,
        number: document.number,
        store: document.store,
        status: document.status,
        customer: document.customer,
        total: Money::from(document.total),
        currency: document.currency,
        created_at: document.created_at,
        items: document
            .items
            .into_iter()
            .map(|item| HitItem {
                sku: item.sku,
                name: item.name,
                quantity: item.quantity,
            })
            .collect(),
        tags: document.tags,
        deleted: document.deleted,
        version: document.version,
        highlights,
    }
}

pub fn engine_error(error: EngineError) -> ApiError {
    match error {
        EngineError::Unavailable(cause) => {
            ApiError::ServiceUnavailable(format!("search engine unavailable: {cause:#}"))
        }
        EngineError::Rejected(cause) => ApiError::Internal(cause),
    }
}

/// `search_backlog()`'s two columns, then the hits' ids and current versions.
type VersionsAndBacklog = (i64, Option<f64>, Option<Vec<Uuid>>, Option<Vec<i32>>);

/// Runs a search and shapes the response.
pub async fn search(
    pool: &PgPool,
    engine: &SearchEngine,
    request: &SearchRequest,
) -> Result<SearchResponse, ApiError> {
    let started = std::time::Instant::now();
    let EngineResults {
        hits,
        mut total,
        facets,
    } = engine.search(request).await.map_err(engine_error)?;
    let ids: Vec<Uuid> = hits.iter().map(|hit| hit.document.id).collect();
    // The hits' current versions and the backlog in one round trip.
    let (pending_changes, lag_ms, found, found_versions): VersionsAndBacklog = sqlx::query_as(
        "select b.pending_changes, b.lag_ms, v.ids, v.versions
         from search_backlog() b,
              lateral (select array_agg(id) as ids, array_agg(version) as versions
                       from orders where id = any($1)) v",
    )
    .bind(&ids)
    .fetch_one(pool)
    .await?;
    let backlog = Backlog::from_row((pending_changes, lag_ms));
    let versions: HashMap<Uuid, i32> = found
        .unwrap_or_default()
        .into_iter()
        .zip(found_versions.unwrap_or_default())
        .collect();
    let mut shaped: Vec<Hit> = hits
        .into_iter()
        .map(|found| {
            let current = versions.get(&found.document.id).copied();
            hit(found.document, found.highlights, current)
        })
        .collect();
    if request.offset == 0 {
        let unindexed = exact_matches_not_indexed(pool, request, &shaped).await?;
        total += unindexed.len() as u64;
        let mut front: Vec<Hit> = unindexed
            .into_iter()
            .map(|document| hit(document, BTreeMap::new(), None))
            .collect();
        front.append(&mut shaped);
        front.truncate(request.limit);
        shaped = front;
    }
    Ok(SearchResponse {
        hits: shaped,
        total,
        limit: request.limit,
        offset: request.offset,
        facets,
        took_ms: started.elapsed().as_millis() as u64,
        index: IndexState {
            backend: engine.backend(),
            backlog,
        },
    })
}

/// The identifier a query consists of, when it is a single number, UUID or email.
enum Identifier {
    Id(Uuid),
    Number(i64),
    Email(String),
}

fn sole_identifier(query: &Query) -> Option<Identifier> {
    let [clause] = query.clauses.as_slice() else {
        return None;
    };
    let ClauseKind::Text(text) = &clause.kind else {
        return None;
    };
    if clause.negated {
        return None;
    }
    if let Ok(id) = Uuid::parse_str(text) {
        return Some(Identifier::Id(id));
    }
    if let Ok(number) = text.parse::<i64>() {
        return Some(Identifier::Number(number));
    }
    (text.contains('@') && text.contains('.')).then(|| Identifier::Email(text.to_lowercase()))
}

/// Orders the identifier names exactly that the engine did not return (changes
/// not indexed yet), read fresh from PostgreSQL.
async fn exact_matches_not_indexed(
    pool: &PgPool,
    request: &SearchRequest,
    hits: &[Hit],
) -> Result<Vec<OrderDocument>, ApiError> {
    let Some(identifier) = sole_identifier(&request.query) else {
        return Ok(Vec::new());
    };
    let (id, number, email) = match identifier {
        Identifier::Id(id) => (Some(id), None, None),
        Identifier::Number(number) => (None, Some(number), None),
        Identifier::Email(email) => (None, None, Some(email)),
    };
    let found: Vec<Uuid> = sqlx::query_scalar(
        "select id from orders
         where (id = $1 or number = $2 or lower(customer_email) = $3)
           and ($4::text is null or store_id = $4) and ($5 or deleted_at is null)
           and indexed_stamp < change_stamp
         order by created_at desc limit 20",
    )
    .bind(id)
    .bind(number)
    .bind(email)
    .bind(request.store.as_deref())
    .bind(request.include_deleted)
    .fetch_all(pool)
    .await?;
    let shown: HashSet<Uuid> = hits.iter().map(|hit| hit.id).collect();
    let missing: Vec<Uuid> = found.into_iter().filter(|id| !shown.contains(id)).collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = pool.acquire().await?;
    Ok(document::load(&mut conn, &missing).await?)
}
