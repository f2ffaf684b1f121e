//! The Meilisearch engine, through meilisearch-sdk.
//!
//! Every write is one Meilisearch task, awaited until it has succeeded, so what
//! the indexer acknowledges is searchable (invariant 2). Settings are applied at
//! connect, before any document. A rebuild fills `<uid>_rebuild` while `<uid>`
//! serves, then swaps the two atomically and queues the old one's deletion;
//! its batches are enqueued without waiting for each (Meilisearch batches
//! queued tasks together), at most [`REBUILD_QUEUED`] waiting at a time, and
//! all confirmed before the swap.
//!
//! Hits carry the stored [`OrderDocument`]; their highlights come from
//! [`highlight::highlight`] on it, exactly as the embedded engine's do.
//!
//! Differences from the embedded engine, all from what Meilisearch offers:
//! only the last word of `q` is matched as a prefix (the embedded engine
//! matches every word as a prefix); Meilisearch uses at most ten words of `q`;
//! a negated word excludes only exact matches, not its typo or prefix matches;
//! a word with inner punctuation is searched only in its joined form
//! (`anne-marie` finds "Anne-Marie", not "Anne Marie") and a phone-like word only
//! by its digits; a category facet merges values differing only in case; facets
//! count at most [`settings::MAX_VALUES_PER_FACET`] values each; and `total` is
//! exact up to [`settings::MAX_TOTAL_HITS`].

pub mod document;
pub mod settings;
pub mod tasks;
pub mod translate;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::documents::DocumentsQuery;
use meilisearch_sdk::errors::{Error, ErrorCode};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::request::{HttpClient, Method};
use meilisearch_sdk::reqwest::ReqwestClient;
use meilisearch_sdk::search::{MatchingStrategies, SearchResults, Selectors};
use serde_json::Value;
use uuid::Uuid;

use self::document::{MeiliDocument, ORDER_FIELDS};
use self::settings::ServerVersion;
use self::tasks::{TaskOutcome, call};
use super::document::OrderDocument;
use super::engine::{EngineError, EngineHit, EngineResults, Indexed, SearchRequest};
use super::highlight;

/// How long a settings or index task may take (a settings change on a large
/// index re-indexes it).
const SETTINGS_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a batch of documents may take to be indexed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Rebuild pages waiting in Meilisearch's queue, not yet picked up into a
/// batch, at most; the reader pauses above it. Meilisearch takes every queued
/// task of the index into its next batch, and a few large batches index much
/// faster than many small ones. So the cap counts only the waiting pages, not
/// those being indexed: when a batch ends, the next one finds up to this many
/// pages ready (320 000 documents). A cap on pages merely sent would leave the
/// queue empty at the end of each batch, which is then followed by a batch of
/// one or two pages. The service keeps only task ids; the documents wait on
/// Meilisearch's disk.
const REBUILD_QUEUED: u64 = 64;
/// How often the rebuild checks for room in the queue while it is full.
const REBUILD_QUEUE_POLL: Duration = Duration::from_millis(100);
/// How long a rebuild batch may take, queued behind the others in flight.
const REBUILD_WRITE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `/readyz` waits for the health endpoint.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// Documents read per page when listing change stamps.
const STAMP_PAGE: usize = 5000;

/// The Meilisearch engine.
pub struct MeiliEngine {
    client: Client,
    /// The same transport, for the calls made as raw JSON (tasks, stats).
    http: ReqwestClient,
    host: String,
    index_uid: String,
    version: ServerVersion,
    /// The index being rebuilt, while a rebuild is in progress.
    rebuilding: Mutex<Option<Rebuild>>,
}

/// A rebuild in progress: the index filled, and its batches not yet confirmed.
#[derive(Debug)]
struct Rebuild {
    uid: String,
    in_flight: VecDeque<u32>,
}

fn no_rebuild() -> EngineError {
    EngineError::Rejected(anyhow!("no rebuild in progress"))
}

impl MeiliEngine {
    /// Connects to the server at `url` and prepares index `index_uid` (created
    /// with primary key `id` if missing, settings applied and confirmed).
    pub async fn connect(
        url: &str,
        api_key: Option<&str>,
        index_uid: &str,
    ) -> anyhow::Result<Self> {
        let host = url.trim_end_matches('/').to_string();
        let client =
            Client::new(host.clone(), api_key).context("creating the Meilisearch client")?;
        let http = ReqwestClient::new(api_key).context("creating the Meilisearch client")?;
        let version = call("asking Meilisearch its version", client.get_version())
            .await
            .map_err(|error| anyhow!("Meilisearch at {host} is not usable: {error}"))?;
        let version = ServerVersion::parse(&version.pkg_version).with_context(|| {
            format!("unrecognized Meilisearch version {:?}", version.pkg_version)
        })?;
        let engine = Self {
            client,
            http,
            host,
            index_uid: index_uid.to_string(),
            version,
            rebuilding: Mutex::new(None),
        };
        engine
            .prepare_index(index_uid)
            .await
            .with_context(|| format!("preparing Meilisearch index `{index_uid}`"))?;
        tracing::info!(index = index_uid, version = ?version, "Meilisearch index ready");
        Ok(engine)
    }

    fn index(&self, uid: &str) -> Index {
        self.client.index(uid)
    }

    async fn wait(&self, task: u32, timeout: Duration, what: &str) -> Result<(), EngineError> {
        tasks::wait(&self.http, &self.host, task, timeout, what).await
    }

    /// Creates the index with primary key `id` unless it exists, then applies
    /// the settings; both confirmed before returning.
    async fn prepare_index(&self, uid: &str) -> Result<(), EngineError> {
        let existing = tokio::time::timeout(tasks::REQUEST_TIMEOUT, self.client.get_index(uid))
            .await
            .map_err(|_| {
                EngineError::Unavailable(anyhow!("reading the index: Meilisearch did not answer"))
            })?;
        match existing {
            Ok(index) => {
                if let Some(key) = index.primary_key.as_deref().filter(|key| *key != "id") {
                    return Err(EngineError::Rejected(anyhow!(
                        "index `{uid}` has primary key `{key}`, not `id`; delete it or use another index"
                    )));
                }
            }
            Err(Error::Meilisearch(error)) if error.error_code == ErrorCode::IndexNotFound => {
                let task = call(
                    "creating the index",
                    self.client.create_index(uid, Some("id")),
                )
                .await?;
                self.wait(task.task_uid, SETTINGS_TIMEOUT, "creating the index")
                    .await?;
            }
            Err(error) => return Err(tasks::classify("reading the index", error)),
        }
        let settings = settings::settings(self.version);
        if self.settings_in_place(uid, &settings).await? {
            return Ok(());
        }
        let task = call(
            "updating the index settings",
            self.index(uid).set_settings(&settings),
        )
        .await?;
        self.wait(
            task.task_uid,
            SETTINGS_TIMEOUT,
            "updating the index settings",
        )
        .await
    }

    /// Whether index `uid` already has `wanted`. Meilisearch re-indexes every
    /// document on a settings update even when nothing changes (121 s at 1M
    /// orders, measured), so a start or a reindex only updates what differs.
    async fn settings_in_place(
        &self,
        uid: &str,
        wanted: &meilisearch_sdk::settings::Settings,
    ) -> Result<bool, EngineError> {
        let url = format!("{}/indexes/{uid}/settings", self.host);
        let current: Value = call(
            "reading the index settings",
            self.http
                .request::<(), (), Value>(&url, Method::Get { query: () }, 200),
        )
        .await?;
        let wanted = serde_json::to_value(wanted)
            .map_err(|error| EngineError::Rejected(anyhow!("encoding the settings: {error}")))?;
        Ok(settings::covers(&current, &wanted))
    }

    /// Replaces documents in `uid` as one task and waits for it.
    async fn write(&self, uid: &str, documents: &[OrderDocument]) -> Result<(), EngineError> {
        match self.enqueue(uid, documents).await? {
            Some(task) => self.wait(task, WRITE_TIMEOUT, "indexing documents").await,
            None => Ok(()),
        }
    }

    /// Sends documents to `uid` as one task; its uid, not yet awaited.
    async fn enqueue(
        &self,
        uid: &str,
        documents: &[OrderDocument],
    ) -> Result<Option<u32>, EngineError> {
        if documents.is_empty() {
            return Ok(None);
        }
        let rows: Vec<MeiliDocument<'_>> = documents.iter().map(MeiliDocument::new).collect();
        let task = call(
            "sending documents",
            self.index(uid).add_or_replace(&rows, Some("id")),
        )
        .await?;
        Ok(Some(task.task_uid))
    }

    pub async fn upsert(&self, documents: Vec<OrderDocument>) -> Result<(), EngineError> {
        self.write(&self.index_uid, &documents).await
    }

    pub async fn delete(&self, ids: Vec<Uuid>) -> Result<(), EngineError> {
        self.delete_by_ids(ids.iter().map(Uuid::to_string).collect())
            .await
    }

    pub async fn search(&self, request: &SearchRequest) -> Result<EngineResults, EngineError> {
        let mut facets: BTreeMap<String, BTreeMap<String, u64>> = request
            .facets
            .iter()
            .map(|facet| (facet.name().to_string(), BTreeMap::new()))
            .collect();
        let Some(plan) = translate::plan(request) else {
            return Ok(EngineResults {
                hits: Vec::new(),
                total: 0,
                facets,
            });
        };
        let index = self.index(&self.index_uid);
        let sort: Vec<&str> = plan.sort.iter().map(String::as_str).collect();
        let mut query = index.search();
        query
            .with_matching_strategy(MatchingStrategies::ALL)
            .with_attributes_to_retrieve(Selectors::Some(&ORDER_FIELDS))
            .with_page(plan.window.page)
            .with_hits_per_page(plan.window.hits_per_page);
        if let Some(q) = &plan.q {
            query.with_query(q);
        }
        if let Some(filter) = &plan.filter {
            query.with_filter(filter);
        }
        if !sort.is_empty() {
            query.with_sort(&sort);
        }
        if !plan.facets.is_empty() {
            query.with_facets(Selectors::Some(&plan.facets));
        }
        let results: SearchResults<OrderDocument> = call("searching", query.execute()).await?;
        for (name, values) in results.facet_distribution.unwrap_or_default() {
            if let Some(counts) = facets.get_mut(&name) {
                counts.extend(
                    values
                        .into_iter()
                        .map(|(value, count)| (value, count as u64)),
                );
            }
        }
        let words = highlight::query_words(&request.query);
        let hits = results
            .hits
            .into_iter()
            .skip(plan.window.skip)
            .take(plan.window.limit)
            .map(|hit| EngineHit {
                highlights: highlight::highlight(&hit.result, &words),
                document: hit.result,
            })
            .collect();
        Ok(EngineResults {
            hits,
            total: results
                .total_hits
                .or(results.estimated_total_hits)
                .unwrap_or_default() as u64,
            facets,
        })
    }

    pub async fn indexed_stamps(&self) -> Result<Vec<(Uuid, i64)>, EngineError> {
        Ok(self.indexed().await?.stamps)
    }

    /// Every document's id and stamp, read as raw JSON: a document another tool
    /// wrote (or an older shape) is reported, not an error.
    pub async fn indexed(&self) -> Result<Indexed, EngineError> {
        let index = self.index(&self.index_uid);
        let mut indexed = Indexed::default();
        let mut offset = 0;
        loop {
            let mut query = DocumentsQuery::new(&index);
            query
                .with_fields(["id", "change_stamp"])
                .with_limit(STAMP_PAGE)
                .with_offset(offset);
            let page = call("listing indexed documents", query.execute::<Value>()).await?;
            let read = page.results.len();
            offset += read;
            for document in &page.results {
                match document::read_stamp(document) {
                    Ok(stamp) => indexed.stamps.push(stamp),
                    Err(foreign) => indexed.foreign.push(foreign),
                }
            }
            if read < STAMP_PAGE || offset >= page.total as usize {
                return Ok(indexed);
            }
        }
    }

    /// Removes documents by their ids as Meilisearch holds them.
    pub async fn delete_by_ids(&self, ids: Vec<String>) -> Result<(), EngineError> {
        if ids.is_empty() {
            return Ok(());
        }
        let task = call(
            "deleting documents",
            self.index(&self.index_uid).delete_documents(&ids),
        )
        .await?;
        self.wait(task.task_uid, WRITE_TIMEOUT, "deleting documents")
            .await
    }

    pub async fn document_count(&self) -> Result<u64, EngineError> {
        // Raw JSON: the SDK's `IndexStats` requires fields older servers lack.
        let url = format!("{}/indexes/{}/stats", self.host, self.index_uid);
        let stats: Value = call(
            "reading index stats",
            self.http
                .request::<(), (), Value>(&url, Method::Get { query: () }, 200),
        )
        .await?;
        stats["numberOfDocuments"].as_u64().ok_or_else(|| {
            EngineError::Unavailable(anyhow!("index stats without numberOfDocuments: {stats}"))
        })
    }

    pub async fn is_reachable(&self) -> bool {
        matches!(
            tokio::time::timeout(HEALTH_TIMEOUT, self.client.health()).await,
            Ok(Ok(health)) if health.status == "available"
        )
    }

    fn rebuild_uid(&self) -> String {
        format!("{}_rebuild", self.index_uid)
    }

    /// Deletes index `uid` if it exists, and waits.
    async fn drop_index(&self, uid: &str) -> Result<(), EngineError> {
        let what = "deleting an index";
        let task = call(what, self.client.delete_index(uid)).await?;
        match tasks::outcome(
            &self.http,
            &self.host,
            task.task_uid,
            SETTINGS_TIMEOUT,
            what,
        )
        .await?
        {
            TaskOutcome::Failed { code, .. } if code == "index_not_found" => Ok(()),
            outcome => outcome.into_result(what),
        }
    }

    pub async fn begin_rebuild(&self) -> Result<(), EngineError> {
        let uid = self.rebuild_uid();
        self.drop_index(&uid).await?;
        self.prepare_index(&uid).await?;
        *self.rebuild_state() = Some(Rebuild {
            uid,
            in_flight: VecDeque::new(),
        });
        Ok(())
    }

    fn rebuild_state(&self) -> std::sync::MutexGuard<'_, Option<Rebuild>> {
        self.rebuilding
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn rebuilding_uid(&self) -> Result<String, EngineError> {
        self.rebuild_state()
            .as_ref()
            .map(|rebuild| rebuild.uid.clone())
            .ok_or_else(no_rebuild)
    }

    /// Enqueues a batch; then, when more than [`REBUILD_QUEUED`] pages are
    /// waiting in Meilisearch's queue, waits until they are fewer. A failed
    /// batch is found when [`Self::finish_rebuild`] confirms them all.
    pub async fn rebuild_upsert(&self, documents: Vec<OrderDocument>) -> Result<(), EngineError> {
        let uid = self.rebuilding_uid()?;
        let Some(task) = self.enqueue(&uid, &documents).await? else {
            return Ok(());
        };
        let in_flight = {
            let mut state = self.rebuild_state();
            let rebuild = state.as_mut().ok_or_else(no_rebuild)?;
            rebuild.in_flight.push_back(task);
            rebuild.in_flight.len() as u64
        };
        if in_flight <= REBUILD_QUEUED {
            return Ok(());
        }
        let deadline = Instant::now() + REBUILD_WRITE_TIMEOUT;
        while tasks::enqueued(&self.http, &self.host, &uid).await? > REBUILD_QUEUED {
            if Instant::now() > deadline {
                return Err(EngineError::Unavailable(anyhow!(
                    "indexing documents: Meilisearch picked up no queued batch within {REBUILD_WRITE_TIMEOUT:?}"
                )));
            }
            tokio::time::sleep(REBUILD_QUEUE_POLL).await;
        }
        Ok(())
    }

    async fn confirm_rebuild_batch(&self, task: u32) -> Result<(), EngineError> {
        self.wait(task, REBUILD_WRITE_TIMEOUT, "indexing documents")
            .await
    }

    /// Confirms every batch still in flight, then swaps the rebuilt index in.
    pub async fn finish_rebuild(&self) -> Result<(), EngineError> {
        let uid = self.rebuilding_uid()?;
        loop {
            let next = self
                .rebuild_state()
                .as_mut()
                .and_then(|rebuild| rebuild.in_flight.pop_front());
            match next {
                Some(task) => self.confirm_rebuild_batch(task).await?,
                None => break,
            }
        }
        let swap = SwapIndexes {
            indexes: (self.index_uid.clone(), uid.clone()),
            rename: None,
        };
        let task = call(
            "swapping in the rebuilt index",
            self.client.swap_indexes([&swap]),
        )
        .await?;
        self.wait(
            task.task_uid,
            SETTINGS_TIMEOUT,
            "swapping in the rebuilt index",
        )
        .await?;
        *self.rebuild_state() = None;
        // `uid` now holds the old documents. Their deletion is queued, not
        // awaited: the swap is done, and the next rebuild awaits it first
        // (`begin_rebuild` deletes `uid` and waits).
        if let Err(error) = call(
            "deleting the replaced index",
            self.client.delete_index(&uid),
        )
        .await
        {
            tracing::warn!(index = %uid, error = %error, "could not delete the replaced index");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
