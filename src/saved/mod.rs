//! Saved searches: a named query in the search language (and a sort), owned by
//! the key that saved it, private or shared with every key of the same store
//! (an unscoped key's shared searches reach unscoped keys; unscoped keys, which
//! see every store, also see every store's shared searches). The console shows them as
//! tabs with live counts; `GET /v1/orders/search?saved={id}` runs one.

pub mod routes;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use validator::Validate;

use crate::domain::rules;
use crate::http::auth::{Principal, Role};
use crate::http::error::{ApiError, Conflict, ResultExt};

/// A saved search as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SavedSearch {
    pub id: Uuid,
    pub name: String,
    /// The query, in the search language.
    pub q: String,
    /// `created_at`, `total` or `number` with `:asc` or `:desc`; `null` for relevance.
    pub sort: Option<String>,
    /// Seen by every key of the owner's store scope, not only the owner.
    pub shared: bool,
    /// The id of the key that saved it.
    pub owner: Uuid,
    /// The owner's store scope when it was saved; `null` for an unscoped key.
    pub store: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; the `ETag` an `If-Match` names.
    pub version: i32,
    /// How many orders it finds now (only with `counts=true`; `null` when it
    /// could not be counted: the engine is unreachable, or the query no longer
    /// parses).
    #[sqlx(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u64>)]
    pub count: Option<Option<u64>>,
}

/// `POST /v1/saved-searches`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSavedSearch {
    #[validate(length(min = 1, max = 100), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// A query in the search language (at most 512 bytes, as in search); a bad
    /// qualifier is a 422 naming `q`.
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub q: String,
    /// `created_at`, `total` or `number`, optionally with `:asc` or `:desc`.
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub sort: Option<String>,
    #[serde(default)]
    pub shared: bool,
}

/// `PATCH /v1/saved-searches/{id}`: absent fields are kept; `sort: null` clears the sort.
#[derive(Debug, Default, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedSearchPatch {
    #[validate(length(min = 1, max = 100), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub q: Option<String>,
    #[serde(default, deserialize_with = "crate::products::present_or_null")]
    #[validate(length(max = 20))]
    #[schema(max_length = 20, value_type = Option<String>)]
    pub sort: Option<Option<String>>,
    pub shared: Option<bool>,
}

const COLUMNS: &str = "id, name, q, sort, shared, owner_key_id as owner, store_id as store, \
    created_at, updated_at, version";

/// Rows a key (`$1`, scoped to store `$2` or to none) may see: its own, and the
/// shared ones of its store. A key scoped to one store sees that store's; an
/// unscoped key, which sees every store's orders, sees every shared search.
const VISIBLE: &str = "(owner_key_id = $1 or (shared and ($2::text is null or store_id = $2)))";

fn name_taken(name: &str) -> ApiError {
    ApiError::conflict(
        Conflict::SavedSearchExists,
        format!("its owner already has a saved search named `{name}`"),
        serde_json::json!({ "name": name }),
    )
}

pub async fn insert(
    conn: &mut PgConnection,
    principal: &Principal,
    new: &NewSavedSearch,
) -> Result<SavedSearch, ApiError> {
    let name = new.name.trim();
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into saved_searches (id, owner_key_id, store_id, name, q, sort, shared)
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(principal.key_id)
    .bind(principal.store.as_deref())
    .bind(name)
    .bind(new.q.trim())
    .bind(new.sort.as_deref())
    .bind(new.shared)
    .fetch_one(conn)
    .await
    .on_constraint("saved_searches_owner_name_key", || name_taken(name))
}

/// The saved searches `principal` may see, oldest first, after `after`.
pub async fn list(
    pool: &PgPool,
    principal: &Principal,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SavedSearch>, ApiError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from saved_searches
         where {VISIBLE} and ($3::uuid is null or id > $3) order by id limit $4"
    )))
    .bind(principal.key_id)
    .bind(principal.store.as_deref())
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// One saved search `principal` may see; 404 for any other.
pub async fn get(pool: &PgPool, principal: &Principal, id: Uuid) -> Result<SavedSearch, ApiError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from saved_searches where id = $3 and {VISIBLE}"
    )))
    .bind(principal.key_id)
    .bind(principal.store.as_deref())
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::NotFound("saved search"))
}

/// 404 unless visible, 403 unless `principal` owns it or is an admin.
async fn get_changeable(
    pool: &PgPool,
    principal: &Principal,
    id: Uuid,
) -> Result<SavedSearch, ApiError> {
    let saved = get(pool, principal, id).await?;
    if saved.owner != principal.key_id && principal.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only its owner or an admin may change a saved search".into(),
        ));
    }
    Ok(saved)
}

/// Applies a patch; `expected_version` is the `If-Match` check (412 on a mismatch).
pub async fn update(
    pool: &PgPool,
    principal: &Principal,
    id: Uuid,
    patch: &SavedSearchPatch,
    expected_version: Option<i32>,
) -> Result<SavedSearch, ApiError> {
    let saved = get_changeable(pool, principal, id).await?;
    let name = patch.name.as_deref().map(str::trim);
    let updated: Option<SavedSearch> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update saved_searches set name = coalesce($2, name), q = coalesce($3, q),
            sort = case when $4 then $5 else sort end, shared = coalesce($6, shared),
            version = version + 1, updated_at = now()
         where id = $1 and ($7::int is null or version = $7) returning {COLUMNS}"
    )))
    .bind(saved.id)
    .bind(name)
    .bind(patch.q.as_deref().map(str::trim))
    .bind(patch.sort.is_some())
    .bind(patch.sort.clone().flatten())
    .bind(patch.shared)
    .bind(expected_version)
    .fetch_optional(pool)
    .await
    .on_constraint("saved_searches_owner_name_key", || {
        name_taken(name.unwrap_or_default())
    })?;
    updated.ok_or(ApiError::PreconditionFailed)
}

/// Deletes one; `expected_version` is the `If-Match` check (412 on a mismatch).
pub async fn delete(
    pool: &PgPool,
    principal: &Principal,
    id: Uuid,
    expected_version: Option<i32>,
) -> Result<(), ApiError> {
    let saved = get_changeable(pool, principal, id).await?;
    let deleted = sqlx::query(
        "delete from saved_searches where id = $1 and ($2::int is null or version = $2)",
    )
    .bind(saved.id)
    .bind(expected_version)
    .execute(pool)
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(())
}
