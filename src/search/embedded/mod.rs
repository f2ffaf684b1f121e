//! The embedded search engine: a tantivy index under the data directory.
//!
//! Generations live in `<dir>/gen-<n>`, the serving one named by `<dir>/CURRENT`.
//! A rebuild fills the next generation while the current one serves, then swaps
//! it in. Writes are confirmed by a commit and a reader reload before returning,
//! so what the indexer acknowledges is searchable.

pub mod facets;
pub mod schema;
pub mod translate;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use tantivy::collector::Count;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument};
use uuid::Uuid;

use self::facets::FacetCounter;
use self::schema::Fields;
use super::document::OrderDocument;
use super::engine::{EngineError, EngineHit, EngineResults, SearchRequest, Sort, SortField};
use super::highlight;
use super::query::ClauseKind;

/// Memory for the indexing buffer of the serving writer.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Memory for the indexing buffers while rebuilding: large segments, few of them.
const REBUILD_MEMORY: usize = 512 * 1024 * 1024;

/// Threads one search spreads its segments over.
const SEARCH_THREADS: usize = 2;

/// One index generation: its directory, reader and writer.
struct Generation {
    number: u64,
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl Generation {
    fn open(root: &Path, number: u64, memory: usize) -> anyhow::Result<Self> {
        let dir = root.join(format!("gen-{number}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let directory = tantivy::directory::MmapDirectory::open(&dir)?;
        // An existing index keeps the schema it was created with (see `Fields::resolve`).
        let mut index = if Index::exists(&directory)? {
            Index::open(directory)
        } else {
            Index::create(
                directory,
                schema::build(),
                tantivy::IndexSettings::default(),
            )
        }
        .context("opening the search index")?;
        // Segments are searched in parallel: a rebuild leaves a few large ones.
        index.set_multithread_executor(SEARCH_THREADS)?;
        let fields = Fields::resolve(&index.schema())?;
        schema::register_tokenizers(&index);
        let writer = index
            .writer_with_num_threads(2, memory)
            .context("the search index is in use by another process (a running service?)")?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            number,
            dir,
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    fn analyzer(&self) -> TextAnalyzer {
        self.index
            .tokenizers()
            .get(schema::FOLD_TOKENIZER)
            .expect("the fold tokenizer is registered on open")
    }

    /// Replaces documents and commits; returns once they are searchable.
    fn upsert(&self, documents: &[OrderDocument]) -> tantivy::Result<()> {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for document in documents {
            writer.delete_term(schema::id_term(&self.fields, document.id));
            writer.add_document(schema::to_tantivy(&self.fields, document))?;
        }
        writer.commit()?;
        self.reader.reload()
    }

    fn delete(&self, ids: &[Uuid]) -> tantivy::Result<()> {
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for id in ids {
            writer.delete_term(schema::id_term(&self.fields, *id));
        }
        writer.commit()?;
        self.reader.reload()
    }
}

/// The embedded engine.
pub struct EmbeddedEngine {
    root: PathBuf,
    current: RwLock<Arc<Generation>>,
    building: Mutex<Option<Arc<Generation>>>,
}

fn unavailable(error: impl Into<anyhow::Error>) -> EngineError {
    EngineError::Unavailable(error.into())
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(unavailable)?
}

impl EmbeddedEngine {
    /// Opens (or creates) the index under `root`.
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let number = std::fs::read_to_string(root.join("CURRENT"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(1);
        let generation = Generation::open(root, number, WRITER_MEMORY)?;
        remove_other_generations(root, number);
        Ok(Self {
            root: root.to_path_buf(),
            current: RwLock::new(Arc::new(generation)),
            building: Mutex::new(None),
        })
    }

    fn current(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub async fn upsert(&self, documents: Vec<OrderDocument>) -> Result<(), EngineError> {
        let generation = self.current();
        blocking(move || generation.upsert(&documents).map_err(unavailable)).await
    }

    pub async fn delete(&self, ids: Vec<Uuid>) -> Result<(), EngineError> {
        let generation = self.current();
        blocking(move || generation.delete(&ids).map_err(unavailable)).await
    }

    pub async fn search(&self, request: &SearchRequest) -> Result<EngineResults, EngineError> {
        let generation = self.current();
        let request = request.clone();
        blocking(move || search(&generation, &request).map_err(unavailable)).await
    }

    pub async fn document_count(&self) -> Result<u64, EngineError> {
        Ok(self.current().reader.searcher().num_docs())
    }

    pub async fn indexed_stamps(&self) -> Result<Vec<(Uuid, i64)>, EngineError> {
        let generation = self.current();
        blocking(move || indexed_stamps(&generation).map_err(unavailable)).await
    }

    pub async fn begin_rebuild(&self) -> Result<(), EngineError> {
        let next = self.current().number + 1;
        let root = self.root.clone();
        let generation = blocking(move || {
            let _ = std::fs::remove_dir_all(root.join(format!("gen-{next}")));
            let generation = Generation::open(&root, next, REBUILD_MEMORY).map_err(unavailable)?;
            // A bulk load writes each segment once; merging while loading would
            // rewrite them (the few large segments it leaves need no merge).
            generation
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            Ok(generation)
        })
        .await?;
        *self
            .building
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(generation));
        Ok(())
    }

    fn building(&self) -> Result<Arc<Generation>, EngineError> {
        self.building
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or_else(|| EngineError::Rejected(anyhow::anyhow!("no rebuild in progress")))
    }

    pub async fn rebuild_upsert(&self, documents: Vec<OrderDocument>) -> Result<(), EngineError> {
        let generation = self.building()?;
        // Bulk loading adds without deletes and commits once at the end.
        blocking(move || {
            let writer = generation
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for document in &documents {
                writer
                    .add_document(schema::to_tantivy(&generation.fields, document))
                    .map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }

    pub async fn finish_rebuild(&self) -> Result<(), EngineError> {
        let generation = self.building()?;
        let root = self.root.clone();
        let committed = generation.clone();
        blocking(move || {
            let mut writer = committed
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            writer.commit().map_err(unavailable)?;
            writer.set_merge_policy(Box::new(tantivy::indexer::LogMergePolicy::default()));
            committed.reader.reload().map_err(unavailable)?;
            std::fs::write(root.join("CURRENT"), committed.number.to_string()).map_err(unavailable)
        })
        .await?;
        let previous = std::mem::replace(
            &mut *self
                .current
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            generation,
        );
        *self
            .building
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        let old_dir = previous.dir.clone();
        drop(previous);
        // Searches still holding the old generation keep their mmaps; unlinking is safe.
        let _ = std::fs::remove_dir_all(old_dir);
        Ok(())
    }
}

fn remove_other_generations(root: &Path, keep: u64) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("gen-") && name != format!("gen-{keep}") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn sort_column(field: SortField) -> &'static str {
    match field {
        SortField::CreatedAt => "created",
        SortField::Total => "total_cents",
        SortField::Number => "number",
    }
}

fn search(generation: &Generation, request: &SearchRequest) -> anyhow::Result<EngineResults> {
    let searcher = generation.reader.searcher();
    let mut analyzer = generation.analyzer();
    let query = translate::translate(request, &generation.fields, &mut analyzer, &searcher);
    let window =
        tantivy::collector::TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
    let facets = FacetCounter {
        facets: request.facets.clone(),
    };
    let scored = request.query.clauses.iter().any(|clause| {
        !clause.negated && matches!(clause.kind, ClauseKind::Text(_) | ClauseKind::Phrase(_))
    });
    let newest = (
        SortByStaticFastValue::<i64>::for_field("created"),
        Order::Desc,
    );
    let (addresses, total, facet_counts): (Vec<DocAddress>, usize, _) = match request.sort {
        Sort::Relevance if scored => {
            let collector = window.order_by(((SortBySimilarityScore, Order::Desc), newest));
            let (top, total, counts) = searcher.search(&query, &(collector, Count, facets))?;
            (
                top.into_iter().map(|(_, address)| address).collect(),
                total,
                counts,
            )
        }
        Sort::Relevance => {
            let (top, total, counts) =
                searcher.search(&query, &(window.order_by(newest), Count, facets))?;
            (
                top.into_iter().map(|(_, address)| address).collect(),
                total,
                counts,
            )
        }
        Sort::By {
            field: SortField::Number,
            descending,
        } => {
            let order = if descending { Order::Desc } else { Order::Asc };
            let collector =
                window.order_by((SortByStaticFastValue::<u64>::for_field("number"), order));
            let (top, total, counts) = searcher.search(&query, &(collector, Count, facets))?;
            (
                top.into_iter().map(|(_, address)| address).collect(),
                total,
                counts,
            )
        }
        Sort::By { field, descending } => {
            let order = if descending { Order::Desc } else { Order::Asc };
            let collector = window.order_by((
                SortByStaticFastValue::<i64>::for_field(sort_column(field)),
                order,
            ));
            let (top, total, counts) = searcher.search(&query, &(collector, Count, facets))?;
            (
                top.into_iter().map(|(_, address)| address).collect(),
                total,
                counts,
            )
        }
    };
    let words = highlight::query_words(&request.query);
    let mut hits = Vec::with_capacity(addresses.len());
    for address in addresses {
        let stored: TantivyDocument = searcher.doc(address)?;
        let source = stored
            .get_first(generation.fields.source)
            .and_then(|value| tantivy::schema::Value::as_bytes(&value))
            .context("a stored document without its source")?;
        let document: OrderDocument = serde_json::from_slice(source)?;
        let highlights = highlight::highlight(&document, &words);
        hits.push(EngineHit {
            document,
            highlights,
        });
    }
    Ok(EngineResults {
        hits,
        total: total as u64,
        facets: facet_counts,
    })
}

fn indexed_stamps(generation: &Generation) -> anyhow::Result<Vec<(Uuid, i64)>> {
    let searcher = generation.reader.searcher();
    let mut stamps = Vec::with_capacity(searcher.num_docs() as usize);
    let mut text = String::new();
    for segment in searcher.segment_readers() {
        let ids = segment.fast_fields().str("id")?.context("the id column")?;
        let changes = segment.fast_fields().i64("change_stamp")?;
        for doc in segment.doc_ids_alive() {
            let Some(ord) = ids.term_ords(doc).next() else {
                continue;
            };
            text.clear();
            ids.ord_to_str(ord, &mut text)?;
            if let (Ok(id), Some(stamp)) = (Uuid::parse_str(&text), changes.first(doc)) {
                stamps.push((id, stamp));
            }
        }
    }
    Ok(stamps)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use tantivy::schema::{FAST, INDEXED, Schema};

    use super::*;
    use crate::search::engine::FacetField;
    use crate::search::query;

    /// The schema of an earlier version: `created` indexed as well as fast,
    /// and the fields in another order.
    fn earlier_schema() -> Schema {
        let current = schema::build();
        let mut builder = Schema::builder();
        let entries: Vec<_> = current.fields().map(|(_, entry)| entry.clone()).collect();
        for entry in entries.into_iter().rev() {
            if entry.name() == "created" {
                builder.add_i64_field("created", INDEXED | FAST);
            } else {
                builder.add_field(entry);
            }
        }
        builder.build()
    }

    #[tokio::test]
    async fn an_index_created_with_an_earlier_schema_keeps_serving_and_taking_documents() {
        let root = std::env::temp_dir().join(format!("ordersearch-schema-{}", Uuid::new_v4()));
        let first = root.join("gen-1");
        std::fs::create_dir_all(&first).unwrap();
        Index::create_in_dir(&first, earlier_schema()).unwrap();

        let engine = EmbeddedEngine::open(&root).unwrap();
        let document: OrderDocument = serde_json::from_value(json!({
            "id": Uuid::new_v4(), "number": 1042, "store": "default", "status": "pending",
            "deleted": false,
            "customer": {"id": null, "email": "jane@example.com", "name": "Jane Doe", "phone": null},
            "items": [{"sku": "MUG-BLUE", "name": "Blue Mug", "category": "Kitchen", "quantity": 1}],
            "shipping": {"name": null, "city": "Kraków", "postal_code": null, "country": "PL"},
            "tags": [], "note": null, "total": "12.50", "currency": "EUR",
            "created_at": Utc::now(), "version": 1, "change_stamp": 7
        }))
        .unwrap();
        engine.upsert(vec![document.clone()]).await.unwrap();
        let request = SearchRequest {
            query: query::parse("jane created:-7d total:>10", Utc::now()).unwrap(),
            store: None,
            include_deleted: false,
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            facets: vec![FacetField::Status],
            after_number: None,
        };
        let found = engine.search(&request).await.unwrap();
        std::fs::remove_dir_all(&root).ok();

        assert_eq!(found.total, 1);
        assert_eq!(found.hits[0].document.id, document.id);
        assert_eq!(found.facets["status"]["pending"], 1);
    }
}
