//! Stores: storefronts, each with its own currency and time zone.

pub mod routes;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use validator::Validate;

use crate::domain::rules;
use crate::http::auth::StoreScope;
use crate::http::error::{ApiError, Conflict, ResultExt};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Store {
    pub id: String,
    pub name: String,
    /// ISO 4217 code.
    pub currency: String,
    /// IANA time zone; analytics dates are local to it.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStore {
    /// 1–32 of `a-z`, `0-9`, `-`, `_`.
    #[validate(custom(function = "rules::store_id"))]
    #[schema(example = "eu", pattern = r"^[a-z0-9_-]{1,32}$")]
    pub id: String,
    #[validate(length(min = 1, max = 200), custom(function = "rules::not_blank"))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[validate(custom(function = "rules::currency"))]
    #[schema(example = "EUR", pattern = r"^[A-Z]{3}$")]
    pub currency: String,
    #[validate(custom(function = "rules::timezone"))]
    #[schema(example = "Europe/Warsaw")]
    pub timezone: String,
}

pub async fn insert(conn: &mut PgConnection, new: &NewStore) -> Result<Store, ApiError> {
    sqlx::query_as(
        "insert into stores (id, name, currency, timezone) values ($1, $2, $3, $4)
         returning id, name, currency, timezone, created_at",
    )
    .bind(&new.id)
    .bind(new.name.trim())
    .bind(&new.currency)
    .bind(&new.timezone)
    .fetch_one(conn)
    .await
    .on_constraint("stores_pkey", || {
        ApiError::conflict(
            Conflict::StoreExists,
            format!("store `{}` already exists", new.id),
            serde_json::Value::Null,
        )
    })
}

/// Stores visible in `scope`, ordered by id, after `after`.
pub async fn list(
    pool: &PgPool,
    scope: &StoreScope,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Store>, ApiError> {
    let rows = sqlx::query_as(
        "select id, name, currency, timezone, created_at from stores
         where ($1::text is null or id = $1) and ($2::text is null or id > $2)
         order by id limit $3",
    )
    .bind(scope.filter())
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

pub async fn get(pool: &PgPool, scope: &StoreScope, id: &str) -> Result<Store, ApiError> {
    sqlx::query_as(
        "select id, name, currency, timezone, created_at from stores
         where id = $1 and ($2::text is null or id = $2)",
    )
    .bind(id)
    .bind(scope.filter())
    .fetch_optional(pool)
    .await?
    .ok_or(ApiError::NotFound("store"))
}
