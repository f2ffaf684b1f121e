//! API keys: created with a role and an optional store scope, shown once, stored
//! only as a SHA-256 hash, revocable with immediate effect.

pub mod routes;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use validator::Validate;

use crate::domain::rules;
use crate::http::auth::{Role, hash_key};
use crate::http::error::ApiError;

/// A key as listed: never its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Role)]
    pub role: String,
    pub store: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The secret for `Authorization: Bearer`; shown once, never stored.
    pub key: String,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    #[validate(length(min = 1, max = 200), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    pub role: Role,
    /// Scope the key to one store; omitted → all stores.
    #[validate(custom(function = "rules::store_id"))]
    #[schema(pattern = r"^[a-z0-9_-]{1,32}$")]
    pub store: Option<String>,
}

/// A fresh random secret: `os_` and 32 random bytes, base64url.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("os_{}", URL_SAFE_NO_PAD.encode(bytes))
}

const COLUMNS: &str = "id, name, role, store_id as store, created_at, revoked_at";

/// Stores a key with the given secret (generated when `None`).
pub async fn insert(
    conn: &mut PgConnection,
    new: &NewApiKey,
    secret: Option<String>,
) -> Result<CreatedApiKey, ApiError> {
    if let Some(store) = &new.store {
        let exists: bool = sqlx::query_scalar("select exists (select 1 from stores where id = $1)")
            .bind(store)
            .fetch_one(&mut *conn)
            .await?;
        if !exists {
            return Err(ApiError::invalid("store", "no such store"));
        }
    }
    let secret = secret.unwrap_or_else(generate_secret);
    let key: ApiKey = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into api_keys (id, name, role, store_id, key_hash) values ($1, $2, $3, $4, $5)
         on conflict (key_hash) do update set revoked_at = null, name = excluded.name
         returning {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(new.name.trim())
    .bind(new.role.as_str())
    .bind(&new.store)
    .bind(hash_key(&secret))
    .fetch_one(conn)
    .await?;
    Ok(CreatedApiKey {
        api_key: key,
        key: secret,
    })
}

pub async fn list(pool: &PgPool, after: Option<Uuid>, limit: i64) -> Result<Vec<ApiKey>, ApiError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from api_keys where ($1::uuid is null or id > $1) order by id limit $2"
    )))
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

/// Revokes an active key; a revoked or unknown one is a 404.
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<(), ApiError> {
    let revoked =
        sqlx::query("update api_keys set revoked_at = now() where id = $1 and revoked_at is null")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected();
    if revoked == 0 {
        return Err(ApiError::NotFound("api key"));
    }
    Ok(())
}

/// Makes sure an admin key exists: the given secret (kept in step with the
/// environment), or a new one when no active unscoped admin exists. Returns the
/// secret when one was generated, so the caller can print it once.
pub async fn bootstrap_admin(
    pool: &PgPool,
    configured: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let new = NewApiKey {
        name: "bootstrap admin".into(),
        role: Role::Admin,
        store: None,
    };
    let mut conn = pool.acquire().await?;
    if let Some(secret) = configured {
        insert(&mut conn, &new, Some(secret.to_string()))
            .await
            .map_err(anyhow_from)?;
        return Ok(None);
    }
    let has_admin: bool = sqlx::query_scalar(
        "select exists (select 1 from api_keys where role = 'admin' and store_id is null and revoked_at is null)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if has_admin {
        return Ok(None);
    }
    let created = insert(&mut conn, &new, None).await.map_err(anyhow_from)?;
    Ok(Some(created.key))
}

fn anyhow_from(error: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}
