//! `Idempotency-Key` on POST: a retry gets the first response, byte for byte.
//!
//! The key is claimed by inserting its row inside the write's own transaction.
//! A concurrent retry's insert blocks on that row until the first request
//! commits, then finds it and replays the stored response; if the first request
//! failed and rolled back, the retry simply runs. A client error answered by the
//! handler (a 409 for short stock, say) is stored too, as Stripe does; input that
//! never reached the handler (400/422) is not. Rows are purged after 24 hours.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::auth::Principal;
use super::error::{ApiError, Conflict};
use crate::state::AppState;

/// How long stored responses are kept.
pub const RETENTION_HOURS: i32 = 24;

/// The optional `Idempotency-Key` header (1–255 visible ASCII characters).
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|key| (1..=255).contains(&key.len()))
            .filter(|key| key.bytes().all(|byte| byte.is_ascii_graphic()))
            .ok_or_else(|| ApiError::BadParameter {
                field: "Idempotency-Key".into(),
                message: "must be 1 to 255 visible ASCII characters".into(),
            })?;
        Ok(Self(Some(key.to_string())))
    }
}

/// A response that can be stored and replayed exactly.
#[derive(Debug, Clone)]
pub struct Replayable {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

impl Replayable {
    /// A JSON response.
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(body).map_err(anyhow::Error::from)?;
        Ok(Self {
            status,
            headers: vec![(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        })
    }

    /// A `201 Created` JSON response whose `Location` is the new resource's path.
    pub fn created<T: Serialize>(body: &T, location: &str) -> Result<Self, ApiError> {
        let location = HeaderValue::from_str(location).map_err(anyhow::Error::from)?;
        Ok(Self::json(StatusCode::CREATED, body)?.with_header(header::LOCATION, location))
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    fn from_error(error: &ApiError) -> Self {
        Self {
            status: error.status_code(),
            headers: vec![(
                header::CONTENT_TYPE,
                HeaderValue::from_static(super::error::PROBLEM_JSON),
            )],
            body: error.to_problem().to_string().into_bytes(),
        }
    }

    fn headers_json(&self) -> serde_json::Value {
        self.headers
            .iter()
            .map(|(name, value)| {
                serde_json::json!([name.as_str(), value.to_str().unwrap_or_default()])
            })
            .collect()
    }
}

impl IntoResponse for Replayable {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        (self.status, headers, self.body).into_response()
    }
}

/// Runs `work` in one transaction, at most once per key; replays on retries.
///
/// `work` gets the transaction's connection; everything it writes commits
/// together with the stored response.
pub async fn run_idempotent<F>(
    state: &AppState,
    principal: &Principal,
    key: IdempotencyKey,
    route: &str,
    request_body: &[u8],
    work: F,
) -> Result<Response, ApiError>
where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<Replayable, ApiError>> + Send,
{
    let mut tx = state.db.begin().await?;
    let Some(key) = key.0 else {
        let response = work(&mut tx).await?;
        tx.commit().await?;
        return Ok(response.into_response());
    };
    let fingerprint = fingerprint(route, request_body);
    if !claim(&mut tx, principal, &key, &fingerprint).await? {
        tx.rollback().await?;
        return replay(state, principal, &key, &fingerprint).await;
    }
    match work(&mut tx).await {
        Ok(response) => {
            store(&mut tx, principal, &key, &response).await?;
            tx.commit().await?;
            Ok(response.into_response())
        }
        Err(error) if error.status_code().is_client_error() => {
            tx.rollback().await?;
            let response = Replayable::from_error(&error);
            let mut tx = state.db.begin().await?;
            if claim(&mut tx, principal, &key, &fingerprint).await? {
                store(&mut tx, principal, &key, &response).await?;
            }
            tx.commit().await?;
            Err(error)
        }
        Err(error) => Err(error),
    }
}

/// Inserts the key's row, without a response yet; false when a row for this key exists.
async fn claim(
    conn: &mut PgConnection,
    principal: &Principal,
    key: &str,
    fingerprint: &[u8],
) -> Result<bool, ApiError> {
    let inserted = sqlx::query(
        "insert into idempotency_keys (api_key_id, key, fingerprint) values ($1, $2, $3)
         on conflict do nothing",
    )
    .bind(principal.key_id)
    .bind(key)
    .bind(fingerprint)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

async fn store(
    conn: &mut PgConnection,
    principal: &Principal,
    key: &str,
    response: &Replayable,
) -> Result<(), ApiError> {
    sqlx::query(
        "update idempotency_keys set status = $3, headers = $4, body = $5
         where api_key_id = $1 and key = $2",
    )
    .bind(principal.key_id)
    .bind(key)
    .bind(i16::try_from(response.status.as_u16()).unwrap_or(500))
    .bind(response.headers_json())
    .bind(&response.body)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored idempotency row: fingerprint, status, headers, body.
type StoredResponse = (
    Vec<u8>,
    Option<i16>,
    Option<serde_json::Value>,
    Option<Vec<u8>>,
);

async fn replay(
    state: &AppState,
    principal: &Principal,
    key: &str,
    fingerprint: &[u8],
) -> Result<Response, ApiError> {
    let row: Option<StoredResponse> = sqlx::query_as(
        "select fingerprint, status, headers, body from idempotency_keys
             where api_key_id = $1 and key = $2",
    )
    .bind(principal.key_id)
    .bind(key)
    .fetch_optional(&state.db)
    .await?;
    let reused = || {
        ApiError::conflict(
            Conflict::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request body",
            serde_json::Value::Null,
        )
    };
    let Some((stored_fingerprint, Some(status), headers, Some(body))) = row else {
        return Err(reused());
    };
    if stored_fingerprint != fingerprint {
        return Err(reused());
    }
    let headers = headers
        .and_then(|value| serde_json::from_value::<Vec<(String, String)>>(value).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::try_from(name).ok()?,
                HeaderValue::try_from(value).ok()?,
            ))
        })
        .collect();
    let status = StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok(Replayable {
        status,
        headers,
        body,
    }
    .into_response())
}

/// The request's identity: its JSON re-serialized canonically, so key order and
/// white space do not make a "different body".
fn fingerprint(route: &str, body: &[u8]) -> Vec<u8> {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|value| value.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    hasher.finalize().to_vec()
}

/// Deletes stored responses older than the retention period.
pub async fn purge_expired(pool: &sqlx::PgPool) -> anyhow::Result<u64> {
    let deleted = sqlx::query(
        "delete from idempotency_keys where created_at < now() - make_interval(hours => $1)",
    )
    .bind(RETENTION_HOURS)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(deleted)
}
