//! The search engine seam (invariant 5): one enum over the embedded tantivy index
//! and Meilisearch, with the same request and answer types. Engine specifics stay
//! behind it; callers never know which one answers.

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;

use super::document::OrderDocument;
use super::embedded::EmbeddedEngine;
use super::meili::MeiliEngine;
use super::query::Query;

/// Fields a search may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    Total,
    Number,
}

/// The order of hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first, ties newest first (newest first when nothing is scored).
    Relevance,
    By {
        field: SortField,
        descending: bool,
    },
}

/// Fields that can be counted as facets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FacetField {
    Status,
    Category,
    Store,
    Country,
    Tag,
}

impl FacetField {
    pub const ALL: [FacetField; 5] = [
        FacetField::Status,
        FacetField::Category,
        FacetField::Store,
        FacetField::Country,
        FacetField::Tag,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FacetField::Status => "status",
            FacetField::Category => "category",
            FacetField::Store => "store",
            FacetField::Country => "country",
            FacetField::Tag => "tag",
        }
    }

    pub fn parse(text: &str) -> Option<FacetField> {
        FacetField::ALL
            .into_iter()
            .find(|facet| facet.name() == text)
    }
}

/// A search as the engines receive it: the parsed query plus what the caller's
/// key and the request's parameters add.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    /// The store scope applied by the auth layer (invariant 7).
    pub store: Option<String>,
    pub include_deleted: bool,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    pub facets: Vec<FacetField>,
    /// Only orders numbered above this (keyset paging for exports).
    pub after_number: Option<u64>,
}

/// One hit: the document as indexed and its highlighted fields.
#[derive(Debug, Clone)]
pub struct EngineHit {
    pub document: OrderDocument,
    pub highlights: BTreeMap<String, String>,
}

/// What an engine answers.
#[derive(Debug, Clone, Default)]
pub struct EngineResults {
    pub hits: Vec<EngineHit>,
    pub total: u64,
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Why an engine call failed: the engine cannot be reached (back off and retry
/// everything later) or it refused these documents (find and record the bad one).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("search engine unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    #[error("search engine rejected the request: {0:#}")]
    Rejected(anyhow::Error),
}

/// What an index holds, as reconcile sees it.
#[derive(Debug, Default)]
pub struct Indexed {
    /// Order ids with the change stamp each was indexed at; [`UNREADABLE_STAMP`]
    /// for a document without a readable one (another tool's, an older shape).
    pub stamps: Vec<(Uuid, i64)>,
    /// Ids of documents whose id is no order id: written by something else.
    pub foreign: Vec<String>,
}

/// The stamp of a document whose stamp cannot be read: no order has it, so
/// reconcile queues the order again (or removes the document if none).
pub const UNREADABLE_STAMP: i64 = -1;

/// The engine in use.
#[derive(Clone)]
pub enum SearchEngine {
    Embedded(Arc<EmbeddedEngine>),
    Meili(Arc<MeiliEngine>),
}

impl SearchEngine {
    /// `embedded` or `meilisearch`.
    pub fn backend(&self) -> &'static str {
        match self {
            SearchEngine::Embedded(_) => "embedded",
            SearchEngine::Meili(_) => "meilisearch",
        }
    }

    /// Writes documents and returns only once the engine has confirmed them
    /// (tantivy commit done; Meilisearch task succeeded) and they are searchable.
    pub async fn upsert(&self, documents: Vec<OrderDocument>) -> Result<(), EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.upsert(documents).await,
            SearchEngine::Meili(engine) => engine.upsert(documents).await,
        }
    }

    /// Removes documents by order id, confirmed like `upsert`.
    pub async fn delete(&self, ids: Vec<Uuid>) -> Result<(), EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.delete(ids).await,
            SearchEngine::Meili(engine) => engine.delete(ids).await,
        }
    }

    pub async fn search(&self, request: &SearchRequest) -> Result<EngineResults, EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.search(request).await,
            SearchEngine::Meili(engine) => engine.search(request).await,
        }
    }

    /// Every indexed order id with the change stamp it was indexed at.
    pub async fn indexed_stamps(&self) -> Result<Vec<(Uuid, i64)>, EngineError> {
        Ok(self.indexed().await?.stamps)
    }

    /// What the index holds, as reconcile compares it: the orders' stamps, and
    /// the documents that name no order.
    pub async fn indexed(&self) -> Result<Indexed, EngineError> {
        match self {
            SearchEngine::Embedded(engine) => Ok(Indexed {
                stamps: engine.indexed_stamps().await?,
                foreign: Vec::new(),
            }),
            SearchEngine::Meili(engine) => engine.indexed().await,
        }
    }

    /// Removes documents that name no order, by their ids as the engine holds
    /// them. The embedded index only ever holds orders' documents.
    pub async fn delete_foreign(&self, ids: Vec<String>) -> Result<(), EngineError> {
        match self {
            SearchEngine::Embedded(_) => Ok(()),
            SearchEngine::Meili(engine) => engine.delete_by_ids(ids).await,
        }
    }

    pub async fn document_count(&self) -> Result<u64, EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.document_count().await,
            SearchEngine::Meili(engine) => engine.document_count().await,
        }
    }

    /// Whether the engine answers at all (for `/readyz`).
    pub async fn is_reachable(&self) -> bool {
        match self {
            SearchEngine::Embedded(_) => true,
            SearchEngine::Meili(engine) => engine.is_reachable().await,
        }
    }

    /// Starts a fresh, empty index beside the serving one.
    pub async fn begin_rebuild(&self) -> Result<(), EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.begin_rebuild().await,
            SearchEngine::Meili(engine) => engine.begin_rebuild().await,
        }
    }

    /// Writes documents into the index being rebuilt.
    pub async fn rebuild_upsert(&self, documents: Vec<OrderDocument>) -> Result<(), EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.rebuild_upsert(documents).await,
            SearchEngine::Meili(engine) => engine.rebuild_upsert(documents).await,
        }
    }

    /// Makes the rebuilt index the serving one.
    pub async fn finish_rebuild(&self) -> Result<(), EngineError> {
        match self {
            SearchEngine::Embedded(engine) => engine.finish_rebuild().await,
            SearchEngine::Meili(engine) => engine.finish_rebuild().await,
        }
    }
}
