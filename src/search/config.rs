//! Which engine to use: Meilisearch when `MEILI_URL` is set, else the embedded
//! tantivy index under the data directory.

use std::path::Path;
use std::sync::Arc;

use super::embedded::EmbeddedEngine;
use super::engine::SearchEngine;
use super::meili::MeiliEngine;

#[derive(clap::Args, Clone)]
pub struct SearchConfig {
    /// Meilisearch URL; when unset, the embedded index under `<data-dir>/index` is used.
    #[arg(long, env = "MEILI_URL")]
    pub meili_url: Option<String>,
    /// Meilisearch API key (master or an admin key).
    #[arg(long, env = "MEILI_MASTER_KEY", hide_env_values = true)]
    pub meili_master_key: Option<String>,
    /// Meilisearch index uid.
    #[arg(long, env = "ORDERSEARCH_MEILI_INDEX", default_value = "orders")]
    pub meili_index: String,
}

impl std::fmt::Debug for SearchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchConfig")
            .field("meili_url", &self.meili_url)
            .field(
                "meili_master_key",
                &self.meili_master_key.as_ref().map(|_| "***"),
            )
            .field("meili_index", &self.meili_index)
            .finish()
    }
}

impl SearchConfig {
    /// Opens the configured engine.
    pub async fn open(&self, data_dir: &Path) -> anyhow::Result<SearchEngine> {
        match &self.meili_url {
            Some(url) => {
                let engine =
                    MeiliEngine::connect(url, self.meili_master_key.as_deref(), &self.meili_index)
                        .await?;
                Ok(SearchEngine::Meili(Arc::new(engine)))
            }
            None => Ok(SearchEngine::Embedded(Arc::new(EmbeddedEngine::open(
                &data_dir.join("index"),
            )?))),
        }
    }
}
