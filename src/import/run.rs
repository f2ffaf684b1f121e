//! Import runs in the database (`import_runs`, migration 0018): created when a
//! run starts, advanced in each batch's own transaction, finished at the end.
//! Running the same command again (the same fingerprint) resumes the newest
//! unfinished run; one run is never worked on by two processes at once.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::input::Position;
use super::{Counts, RejectedOrder};

/// How many rejected orders a run keeps in the database (the rejects file has all).
pub const KEPT_ERRORS: i64 = 100;

/// A run as `import status` and `GET /v1/imports/{id}` show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ImportRun {
    pub id: Uuid,
    /// `file`, `http` or `api`.
    pub kind: String,
    /// The paths or the URL read.
    pub source: String,
    /// The store orders without a `store` went to.
    pub store: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub dry_run: bool,
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    /// The first rejected orders, with their line and reason.
    #[schema(value_type = Vec<RejectedOrder>)]
    pub errors: Json<Vec<RejectedOrder>>,
    /// How far the run has read: `{file, record, offset}` or `{page, url}`.
    #[schema(value_type = Object)]
    pub position: Json<Value>,
    /// Why a failed run stopped.
    pub failure: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, source, store_id as store, status, dry_run, read, created, updated, unchanged, \
    rejected, errors, position, failure, started_at, updated_at, finished_at";

impl ImportRun {
    /// Where the run goes on from.
    pub fn position(&self) -> Position {
        serde_json::from_value(self.position.0.clone()).unwrap_or_default()
    }

    pub fn counts(&self) -> Counts {
        let count = |n: i64| n.max(0) as u64;
        Counts {
            read: count(self.read),
            created: count(self.created),
            updated: count(self.updated),
            unchanged: count(self.unchanged),
            rejected: count(self.rejected),
        }
    }
}

/// A run about to start.
pub struct NewRun<'a> {
    pub kind: &'a str,
    pub source: &'a str,
    pub fingerprint: &'a str,
    pub store: &'a str,
    pub options: Value,
    pub dry_run: bool,
}

/// A stable hash of what makes two commands "the same run".
pub fn fingerprint(parts: &Value) -> String {
    let digest = Sha256::digest(parts.to_string().as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub async fn create(pool: &PgPool, new: &NewRun<'_>) -> anyhow::Result<ImportRun> {
    let run = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into import_runs (id, kind, source, fingerprint, store_id, options, dry_run)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(new.kind)
    .bind(new.source)
    .bind(new.fingerprint)
    .bind(new.store)
    .bind(Json(&new.options))
    .bind(new.dry_run)
    .fetch_one(pool)
    .await?;
    Ok(run)
}

/// The newest unfinished, not dry, run with this fingerprint.
pub async fn resumable(pool: &PgPool, fingerprint: &str) -> anyhow::Result<Option<ImportRun>> {
    let run = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from import_runs
         where fingerprint = $1 and status <> 'done' and not dry_run
         order by started_at desc limit 1"
    )))
    .bind(fingerprint)
    .fetch_optional(pool)
    .await?;
    Ok(run)
}

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<ImportRun>> {
    let run = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from import_runs where id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(run)
}

/// The fingerprint a run was started with.
pub async fn fingerprint_of(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select fingerprint from import_runs where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The newest runs, newest first.
pub async fn list(pool: &PgPool, limit: i64) -> anyhow::Result<Vec<ImportRun>> {
    let runs = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from import_runs order by started_at desc limit $1"
    )))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(runs)
}

/// Marks a run as running again (resuming it).
pub async fn reopen(pool: &PgPool, id: Uuid) -> anyhow::Result<()> {
    sqlx::query(
        "update import_runs set status = 'running', failure = null, finished_at = null,
                updated_at = now()
         where id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a batch: the new position, the counts and the first errors, in
/// the batch's transaction.
pub async fn advance(
    conn: &mut PgConnection,
    id: Uuid,
    position: &Position,
    counts: &Counts,
    errors: &[RejectedOrder],
) -> anyhow::Result<()> {
    sqlx::query(
        "update import_runs set
            position = $2, read = read + $3, created = created + $4, updated = updated + $5,
            unchanged = unchanged + $6, rejected = rejected + $7,
            errors = case when jsonb_array_length(errors) >= $9 then errors
                          else (select coalesce(jsonb_agg(e), '[]') from
                                (select e from jsonb_array_elements(errors || $8) e limit $9) kept)
                     end,
            updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(Json(position))
    .bind(counts.read as i64)
    .bind(counts.created as i64)
    .bind(counts.updated as i64)
    .bind(counts.unchanged as i64)
    .bind(counts.rejected as i64)
    .bind(Json(errors))
    .bind(KEPT_ERRORS)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a run: `done`, or `failed` with why.
pub async fn finish(pool: &PgPool, id: Uuid, failure: Option<&str>) -> anyhow::Result<()> {
    sqlx::query(
        "update import_runs set status = case when $2::text is null then 'done' else 'failed' end,
                failure = $2, finished_at = now(), updated_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(failure)
    .execute(pool)
    .await?;
    Ok(())
}

/// The advisory lock key of a run: one process works on a run at a time.
pub fn lock_key(id: Uuid) -> i64 {
    let bytes = id.as_bytes();
    let mut key = [0u8; 8];
    key.copy_from_slice(&bytes[8..16]);
    i64::from_be_bytes(key) ^ 0x1a5c_0de0_1a5c_0de0
}
