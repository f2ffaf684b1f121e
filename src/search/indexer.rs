//! The outbox indexer (invariants 2 and 3).
//!
//! One indexer per deployment holds a PostgreSQL advisory lock; others wait and
//! take over when its session ends. It reads flagged orders (`indexed_stamp <
//! change_stamp`) in large batches, in one snapshot with their stamps, writes
//! them to the engine, waits for the engine's confirmation, and only then records
//! the stamp it delivered. An order changed meanwhile has a newer stamp and stays
//! flagged. A batch the engine refuses is split to find the documents at fault,
//! which are recorded and retried with backoff; the rest go through.
//!
//! Idle, it looks for flagged orders every [`IDLE_POLL`]: one probe of the
//! outbox's partial index. Order commits do not notify it (migration 0016
//! says why).

use std::time::Duration;

use chrono::Utc;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::document::{self, OrderDocument};
use super::engine::{EngineError, SearchEngine};

/// The advisory lock key of "the indexer".
pub const INDEXER_LOCK: i64 = 0x6f72_6465_7273;
/// Orders per batch when the indexer keeps up.
pub const BATCH_SIZE: i64 = 1000;
/// The most orders per batch. Behind (after an import, a seed, an outage),
/// each full batch doubles the next one up to this, so engine commits and
/// acknowledgements come per many thousand documents, as a rebuild's do.
const MAX_BATCH_SIZE: i64 = 16_000;
/// How often an idle indexer looks for new changes.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// Orders delivered (read, and as good as all acknowledged) since the last
/// vacuum above which an idle indexer vacuums `orders` (see [`vacuum_outbox`]).
const VACUUM_AFTER: u64 = 50_000;
/// First wait after a failed batch (doubling up to [`MAX_BACKOFF`]).
const FIRST_RETRY: Duration = Duration::from_millis(20);
/// How often a standby replica tries to become the indexer.
const STANDBY_POLL: Duration = Duration::from_millis(500);
/// Longest wait between retries when the engine is down.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs the indexer until `shutdown` turns true.
pub async fn run(pool: PgPool, engine: SearchEngine, mut shutdown: watch::Receiver<bool>) {
    // The session the lock is tried on, and held while leading: a standby
    // keeps it between tries rather than opening a connection every poll.
    let mut session: Option<PgConnection> = None;
    while !*shutdown.borrow() {
        let leading = Leading {
            pool: &pool,
            engine: &engine,
        };
        if let Err(error) = leading.lead(&mut session, &mut shutdown).await {
            // A failed session may be broken: the next try opens another.
            session = None;
            tracing::warn!(
                error = format!("{error:#}"),
                "indexer stopped leading; retrying"
            );
        }
        wait(&mut shutdown, STANDBY_POLL).await;
    }
    if let Some(session) = session {
        let _ = session.close().await;
    }
}

/// What a leading indexer works with.
struct Leading<'a> {
    pool: &'a PgPool,
    engine: &'a SearchEngine,
}

/// Sleeps for `duration` or until shutdown.
async fn wait(shutdown: &mut watch::Receiver<bool>, duration: Duration) {
    let _ = tokio::time::timeout(duration, shutdown.changed()).await;
}

impl Leading<'_> {
    /// Takes the lock on `session` (or returns) and delivers batches while holding it.
    async fn lead(
        &self,
        session: &mut Option<PgConnection>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let Leading { pool, engine } = *self;
        // A connection of its own: the session lock lives exactly as long as it.
        let lock = match session {
            Some(lock) => lock,
            None => session.insert(pool.acquire().await?.detach()),
        };
        let leader: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(INDEXER_LOCK)
            .fetch_one(&mut *lock)
            .await?;
        if !leader {
            return Ok(());
        }
        tracing::info!(
            backend = engine.backend(),
            "this process is the search indexer"
        );
        let mut backoff = FIRST_RETRY;
        let mut read_since_vacuum: u64 = 0;
        let mut vacuum: Option<AbortOnDrop> = None;
        let mut limit = BATCH_SIZE;
        while !*shutdown.borrow() {
            match deliver_batch(pool, engine, limit).await {
                Ok(0) => {
                    limit = BATCH_SIZE;
                    if read_since_vacuum >= VACUUM_AFTER
                        && vacuum.as_ref().is_none_or(AbortOnDrop::finished)
                    {
                        read_since_vacuum = 0;
                        vacuum = Some(AbortOnDrop(tokio::spawn(vacuum_outbox(pool.clone()))));
                    }
                    lock.ping().await?;
                    wait(shutdown, IDLE_POLL).await;
                }
                Ok(read) => {
                    limit = next_batch_size(read, limit);
                    backoff = FIRST_RETRY;
                    read_since_vacuum += read as u64;
                }
                Err(error) => {
                    limit = BATCH_SIZE;
                    metrics::counter!("search_indexer_failures_total").increment(1);
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "indexing batch failed; backing off"
                    );
                    wait(shutdown, backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    lock.ping().await?;
                }
            }
        }
        Ok(())
    }
}

/// Vacuums `orders` after the flags of many orders changed (a large backlog
/// indexed, a rebuild swapped in). Every acknowledgement leaves a dead entry in
/// the outbox's partial index (and the table's others) until a vacuum; left
/// there, the backlog count every search makes and each batch's read walk them
/// all (1M acknowledged orders: ~2 900 index pages, a search 2.5 → 15 ms).
/// Autovacuum would come eventually where it is enabled; this does not wait for
/// it. Failure (say, a role that may not vacuum) is only logged.
pub(crate) async fn vacuum_outbox(pool: PgPool) {
    if let Err(error) = sqlx::query("vacuum (analyze) orders").execute(&pool).await {
        tracing::warn!(error = %error, "vacuuming orders after indexing many changes failed");
    }
}

/// Aborts a task when dropped, so it ends with the scope that started it.
struct AbortOnDrop(JoinHandle<()>);

impl AbortOnDrop {
    fn finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A batch as read: documents with the generation they were read under.
struct Batch {
    generation: i64,
    documents: Vec<OrderDocument>,
}

async fn read_batch(pool: &PgPool, limit: i64) -> sqlx::Result<Batch> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let generation: i64 = sqlx::query_scalar("select generation from search_state")
        .fetch_one(&mut *tx)
        .await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select o.id from orders o
         where o.indexed_stamp < o.change_stamp
           and not exists (select 1 from search_failures f where f.order_id = o.id and f.next_attempt_at > now())
         order by o.change_stamp limit $1",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let documents = document::load(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(Batch {
        generation,
        documents,
    })
}

/// The size of the batch after one of `limit` that read `read` orders.
fn next_batch_size(read: usize, limit: i64) -> i64 {
    if read as i64 >= limit {
        (limit * 2).min(MAX_BATCH_SIZE)
    } else {
        BATCH_SIZE
    }
}

/// Delivers batches until the outbox is empty; returns the orders read.
pub async fn catch_up(pool: &PgPool, engine: &SearchEngine) -> anyhow::Result<usize> {
    let (mut total, mut limit) = (0, BATCH_SIZE);
    loop {
        let read = deliver_batch(pool, engine, limit).await?;
        if read == 0 {
            return Ok(total);
        }
        total += read;
        limit = next_batch_size(read, limit);
    }
}

/// Delivers one batch; returns how many orders were read (0 when idle).
pub async fn deliver_batch(
    pool: &PgPool,
    engine: &SearchEngine,
    limit: i64,
) -> anyhow::Result<usize> {
    let batch = read_batch(pool, limit).await?;
    let read = batch.documents.len();
    if read == 0 {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let (delivered, refused) = deliver(engine, batch.documents).await?;
    let mut conn = pool.acquire().await?;
    acknowledge(&mut conn, batch.generation, &delivered).await?;
    record_failures(&mut conn, &refused).await?;
    metrics::counter!("search_indexer_batches_total").increment(1);
    metrics::counter!("search_indexer_documents_total").increment(delivered.len() as u64);
    metrics::histogram!("search_indexer_batch_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    Ok(read)
}

/// Writes documents; a refused batch is split until the refused documents are
/// alone. An unreachable engine fails the whole call so nothing is recorded.
async fn deliver(
    engine: &SearchEngine,
    documents: Vec<OrderDocument>,
) -> Result<(Vec<(Uuid, i64)>, Vec<(Uuid, String)>), EngineError> {
    let mut delivered = Vec::with_capacity(documents.len());
    let mut refused = Vec::new();
    let mut pending = vec![documents];
    while let Some(group) = pending.pop() {
        let stamps: Vec<(Uuid, i64)> = group.iter().map(|doc| (doc.id, doc.change_stamp)).collect();
        match engine.upsert(group.clone()).await {
            Ok(()) => delivered.extend(stamps),
            Err(EngineError::Rejected(error)) if group.len() == 1 => {
                refused.push((group[0].id, format!("{error:#}")));
            }
            Err(EngineError::Rejected(_)) => {
                let mut group = group;
                let half = group.split_off(group.len() / 2);
                pending.push(group);
                pending.push(half);
            }
            Err(unavailable) => return Err(unavailable),
        }
    }
    Ok((delivered, refused))
}

/// Records the stamps delivered, unless a rebuilt index was swapped in since the
/// batch was read (then the orders stay flagged for the new index).
async fn acknowledge(
    conn: &mut PgConnection,
    generation: i64,
    delivered: &[(Uuid, i64)],
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = delivered.iter().map(|(id, _)| *id).collect();
    let stamps: Vec<i64> = delivered.iter().map(|(_, stamp)| *stamp).collect();
    let mut tx = conn.begin().await?;
    // `search_state` before the orders, as a rebuild's swap takes them: in the
    // other order, the two could deadlock.
    sqlx::query("select 1 from search_state for update")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "update orders o set indexed_stamp = greatest(o.indexed_stamp, d.stamp)
         from unnest($1::uuid[], $2::bigint[]) as d(id, stamp)
         where o.id = d.id and (select generation from search_state) = $3",
    )
    .bind(&ids)
    .bind(&stamps)
    .bind(generation)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from search_failures where order_id = any($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update search_state set last_indexed_at = $1")
        .bind(Utc::now())
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Notes refused documents; each waits 2^attempts seconds (at most an hour).
async fn record_failures(conn: &mut PgConnection, refused: &[(Uuid, String)]) -> sqlx::Result<()> {
    for (id, error) in refused {
        metrics::counter!("search_indexer_refused_documents_total").increment(1);
        sqlx::query(
            "insert into search_failures (order_id, attempts, last_error, next_attempt_at)
             values ($1, 1, $2, now() + interval '2 seconds')
             on conflict (order_id) do update set
                attempts = search_failures.attempts + 1, last_error = excluded.last_error,
                next_attempt_at = now() + least(power(2, search_failures.attempts + 1), 3600) * interval '1 second',
                updated_at = now()",
        )
        .bind(id)
        .bind(error)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
