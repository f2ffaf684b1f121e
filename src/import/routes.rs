//! `/v1/imports` (admin; a store-scoped admin imports into its own store):
//! an NDJSON body (`application/x-ndjson`, up to 256 MiB; a JSON array as
//! `application/json` too) is imported in the background; the answer is the
//! run, and `GET /v1/imports/{id}` follows it until `done` or `failed`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::ImportOptions;
use super::engine::{self, BATCHES_AHEAD, Context, Reporter};
use super::input::{self, FileInput, Format, Position};
use super::mapping::Mapping;
use super::run::{self, ImportRun, NewRun};
use crate::http::auth::{Principal, Role};
use crate::http::error::ApiError;
use crate::http::extract::{Path, ValidQuery};
use crate::state::AppState;

/// The largest import body accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

/// Orders per transaction for API imports.
const BATCH: usize = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_import))
        .routes(routes!(get_import))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The store for orders that name none (default: the key's store, else `default`).
    store: Option<String>,
    /// Validate and count only; write nothing.
    #[serde(default)]
    dry_run: bool,
    /// Add unknown SKUs given inline as inactive products.
    #[serde(default)]
    create_products: bool,
}

/// The body's format, from its `Content-Type`.
fn body_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(Format::Ndjson),
        "application/json" => Ok(Format::Json),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// Import order history: one order per line (`application/x-ndjson`, up to
/// 256 MiB), the import model of API.md "Imports". Answers at once with the
/// run; follow it with `GET /v1/imports/{id}`. Orders that fail their checks
/// are listed in `errors` with their line; the rest go in.
#[utoipa::path(post, path = "/v1/imports", tag = "imports", params(ImportParams),
    request_body(content = String, content_type = "application/x-ndjson",
                 description = "One order per line"),
    responses((status = 202, body = ImportRun), (status = 403), (status = 413), (status = 415),
              (status = 422, description = "An unknown store, an empty body or a JSON body that is not an array")))]
async fn create_import(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(params): ValidQuery<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let format = body_format(&headers)?;
    let store = principal
        .store_for_write(&state, params.store.as_deref())
        .await?;
    let bytes = axum::body::to_bytes(body, MAX_IMPORT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_IMPORT_BYTES))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("body", "give at least one order"));
    }
    if format == Format::Json {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Array(_)) => {}
            Ok(_) => return Err(ApiError::invalid("body", "must be a JSON array of orders")),
            Err(error) => return Err(ApiError::BadRequest(format!("malformed JSON: {error}"))),
        }
    }
    let options = ImportOptions {
        store: store.clone(),
        only_store: principal.store.clone(),
        dry_run: params.dry_run,
        max_errors: None,
        create_products: params.create_products,
        reserve_stock: false,
        batch: BATCH,
    };
    let fingerprint = Uuid::new_v4().to_string();
    let new = NewRun {
        kind: "api",
        source: "POST /v1/imports",
        fingerprint: &fingerprint,
        store: &store,
        options: serde_json::to_value(&options).map_err(anyhow::Error::from)?,
        dry_run: params.dry_run,
    };
    let created = run::create(&state.db, &new).await?;
    tokio::spawn(run_in_background(
        state.db.clone(),
        created.clone(),
        options,
        format,
        bytes,
    ));
    let location = format!("/v1/imports/{}", created.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(created),
    )
        .into_response())
}

async fn run_in_background(
    pool: sqlx::PgPool,
    created: ImportRun,
    options: ImportOptions,
    format: Format,
    body: bytes::Bytes,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    let reader = tokio::task::spawn_blocking(move || {
        input::read(
            FileInput::Memory(body),
            Some(format),
            Position::default(),
            BATCH,
            sender,
        );
    });
    let mapping = Mapping::default();
    let context = Context {
        pool: &pool,
        run: &created,
        options: &options,
        mapping: &mapping,
        rejects: None,
        reporter: Reporter::Quiet,
    };
    if let Err(error) = engine::execute(context, receiver).await {
        tracing::error!(run = %created.id, error = format!("{error:#}"), "an import run failed");
        let _ = run::finish(
            &pool,
            created.id,
            Some("the import stopped on a server error"),
        )
        .await;
    }
    reader.abort();
}

/// An import run: its status, counts and the first rejected orders.
#[utoipa::path(get, path = "/v1/imports/{id}", tag = "imports",
    responses((status = 200, body = ImportRun), (status = 403), (status = 404)))]
async fn get_import(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ImportRun>, ApiError> {
    principal.require(&[Role::Admin])?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("import"))?;
    let found = run::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("import"))?;
    if !principal.can_see(&found.store) {
        return Err(ApiError::NotFound("import"));
    }
    Ok(Json(found))
}
