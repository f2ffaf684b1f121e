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

/// Flagged orders listed with their versions beside the engine call, at most:
/// a longer backlog means the hits are looked up after the search instead.
const LISTED_PENDING: i32 = 1000;

/// Runs a search and shapes the response.
///
/// The outbox backlog with the flagged orders' current versions and, for a
/// sole identifier, the orders it names that are not indexed yet are read from
/// PostgreSQL while the engine searches. Only flagged orders can be stale, so
/// the hits wait for one more query only when the backlog is too long to list.
pub async fn search(
    pool: &PgPool,
    engine: &SearchEngine,
    request: &SearchRequest,
) -> Result<SearchResponse, ApiError> {
    let started = std::time::Instant::now();
    let (found, backlog, unindexed) = tokio::join!(
        engine.search(request),
        super::status::backlog_with_versions(pool, LISTED_PENDING),
        unindexed_exact_matches(pool, request),
    );
    let EngineResults {
        hits,
        mut total,
        facets,
    } = found.map_err(engine_error)?;
    let (backlog, pending_versions) = backlog?;
    let ids: Vec<Uuid> = hits.iter().map(|hit| hit.document.id).collect();
    let versions: HashMap<Uuid, i32> = match pending_versions {
        Some(pending) => pending,
        None if ids.is_empty() => HashMap::new(),
        None => {
            sqlx::query_as::<_, (Uuid, i32)>("select id, version from orders where id = any($1)")
                .bind(&ids)
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect()
        }
    };
    let mut shaped: Vec<Hit> = hits
        .into_iter()
        .map(|found| {
            let current = versions.get(&found.document.id).copied();
            hit(found.document, found.highlights, current)
        })
        .collect();
    let shown: HashSet<Uuid> = shaped.iter().map(|hit| hit.id).collect();
    let missing: Vec<Uuid> = unindexed?
        .into_iter()
        .filter(|id| !shown.contains(id))
        .collect();
    if !missing.is_empty() {
        let mut conn = pool.acquire().await?;
        let documents = document::load(&mut conn, &missing).await?;
        total += documents.len() as u64;
        let mut front: Vec<Hit> = documents
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

/// On the first page, the orders a sole identifier (number, UUID, email) names
/// exactly whose changes are not indexed yet, read fresh from PostgreSQL; the
/// caller adds those the engine did not return.
async fn unindexed_exact_matches(
    pool: &PgPool,
    request: &SearchRequest,
) -> Result<Vec<Uuid>, ApiError> {
    let identifier = sole_identifier(&request.query).filter(|_| request.offset == 0);
    let Some(identifier) = identifier else {
        return Ok(Vec::new());
    };
    let (id, number, email) = match identifier {
        Identifier::Id(id) => (Some(id), None, None),
        Identifier::Number(number) => (None, Some(number), None),
        Identifier::Email(email) => (None, None, Some(email)),
    };
    Ok(sqlx::query_scalar(
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
    .await?)
}
