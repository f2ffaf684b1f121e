//! Authentication and tenancy, resolved once per request (invariant 7).
//!
//! `Principal` is the extractor every `/v1` handler takes: it turns the bearer key
//! into a role and an optional store scope. `Principal::scope` is the single
//! place where a store-scoped key's store is applied: repositories take the
//! resulting `StoreScope`, so no query can forget it.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::ApiError;
use crate::state::AppState;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: keys, stores, catalog, orders, search administration.
    Admin,
    /// Storefront backends: read products, create, read, update and delete orders.
    Writer,
    /// Customer-service staff: read and search orders, notes, tags, cancel.
    Support,
    /// Analytics read access.
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Writer => "writer",
            Role::Support => "support",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "writer" => Some(Role::Writer),
            "support" => Some(Role::Support),
            "analyst" => Some(Role::Analyst),
            _ => None,
        }
    }
}

/// The stores a request may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreScope {
    All,
    One(String),
}

impl StoreScope {
    /// The store to filter on, if any (bind as a nullable `$n::text`).
    pub fn filter(&self) -> Option<&str> {
        match self {
            StoreScope::All => None,
            StoreScope::One(store) => Some(store),
        }
    }
}

/// The caller, as resolved from its API key.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: Uuid,
    pub name: String,
    pub role: Role,
    pub store: Option<String>,
}

/// SHA-256 of a secret key: what is stored and looked up.
pub fn hash_key(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let row: Option<(Uuid, String, String, Option<String>)> = sqlx::query_as(
            "select id, name, role, store_id from api_keys where key_hash = $1 and revoked_at is null",
        )
        .bind(hash_key(secret))
        .fetch_optional(&state.db)
        .await?;
        let (key_id, name, role, store) = row.ok_or(ApiError::Unauthorized)?;
        let role = Role::parse(&role).ok_or(ApiError::Unauthorized)?;
        let principal = Principal {
            key_id,
            name,
            role,
            store,
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

impl Principal {
    /// 403 unless the key has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} key cannot do this",
                self.role.as_str()
            )))
        }
    }

    /// 403 unless the key is an admin that is not scoped to one store.
    pub fn require_global_admin(&self) -> Result<(), ApiError> {
        self.require(&[Role::Admin])?;
        match self.store {
            None => Ok(()),
            Some(_) => Err(ApiError::Forbidden(
                "a store-scoped key cannot manage stores or keys".into(),
            )),
        }
    }

    /// Whether this key may see `store`.
    pub fn can_see(&self, store: &str) -> bool {
        self.store.as_deref().is_none_or(|own| own == store)
    }

    /// The stores a read may cover: the requested one (404 if unseen or unknown), the
    /// key's own, or all of them.
    pub async fn scope(
        &self,
        state: &AppState,
        requested: Option<&str>,
    ) -> Result<StoreScope, ApiError> {
        match (requested, &self.store) {
            (Some(store), _) => {
                if !self.can_see(store) || !store_exists(&state.db, store).await? {
                    return Err(ApiError::NotFound("store"));
                }
                Ok(StoreScope::One(store.to_string()))
            }
            (None, Some(own)) => Ok(StoreScope::One(own.clone())),
            (None, None) => Ok(StoreScope::All),
        }
    }

    /// The store a new resource goes to: the one named in the body (422 if unseen or
    /// unknown), else the key's own store, else `default`.
    pub async fn store_for_write(
        &self,
        state: &AppState,
        requested: Option<&str>,
    ) -> Result<String, ApiError> {
        let store = self.store_to_write(requested)?;
        if !store_exists(&state.db, &store).await? {
            return Err(no_such_store());
        }
        Ok(store)
    }

    /// [`Self::store_for_write`] without the database: the caller's own
    /// statement must find the store, else answer [`no_such_store`].
    pub fn store_to_write(&self, requested: Option<&str>) -> Result<String, ApiError> {
        let store = requested
            .map(str::to_string)
            .or_else(|| self.store.clone())
            .unwrap_or_else(|| "default".to_string());
        if !self.can_see(&store) {
            return Err(no_such_store());
        }
        Ok(store)
    }
}

/// The 422 for a write naming a store the key cannot see or that does not exist.
pub fn no_such_store() -> ApiError {
    ApiError::invalid("store", "no such store")
}

/// Whether `store` exists.
pub async fn store_exists<'c, E>(db: E, store: &str) -> Result<bool, ApiError>
where
    E: sqlx::PgExecutor<'c>,
{
    let exists = sqlx::query_scalar("select exists (select 1 from stores where id = $1)")
        .bind(store)
        .fetch_one(db)
        .await?;
    Ok(exists)
}
