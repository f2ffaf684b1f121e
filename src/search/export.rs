//! `GET /v1/orders/export`: every match of a search query as CSV or NDJSON,
//! streamed page by page (keyset on the order number), in constant memory and
//! without the 10 000-hit window of interactive search.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde::Deserialize;
use validator::Validate;

use super::document::OrderDocument;
use super::engine::{SearchEngine, SearchRequest, Sort, SortField};
use super::routes::{SEARCHERS, SearchParams, build_request};
use super::service::engine_error;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::ValidQuery;
use crate::state::AppState;

/// Orders fetched from the engine per page.
const PAGE: usize = 1000;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    #[serde(default)]
    q: String,
    #[param(inline)]
    format: Option<ExportFormat>,
    #[serde(default)]
    include_deleted: bool,
    /// Export this saved search's matches (its id); `q` is ANDed to its query.
    saved: Option<String>,
}

const CSV_HEADER: &str = "number,id,store,status,created_at,customer_name,customer_email,customer_phone,total,currency,items,tags\n";

fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn csv_row(document: &OrderDocument) -> String {
    let items: Vec<String> = document
        .items
        .iter()
        .map(|item| format!("{}x{}", item.quantity, item.sku))
        .collect();
    let fields = [
        document.number.to_string(),
        document.id.to_string(),
        document.store.clone(),
        document.status.clone(),
        document.created_at.to_rfc3339(),
        document.customer.name.clone().unwrap_or_default(),
        document.customer.email.clone().unwrap_or_default(),
        document.customer.phone.clone().unwrap_or_default(),
        format!("{:.2}", document.total),
        document.currency.clone(),
        items.join(";"),
        document.tags.join(";"),
    ];
    let mut row = String::with_capacity(256);
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            row.push(',');
        }
        csv_field(&mut row, field);
    }
    row.push('\n');
    row
}

fn render(format: ExportFormat, documents: &[OrderDocument]) -> Bytes {
    let mut out = String::with_capacity(documents.len() * 256);
    for document in documents {
        match format {
            ExportFormat::Csv => out.push_str(&csv_row(document)),
            ExportFormat::Ndjson => {
                out.push_str(&serde_json::to_string(document).unwrap_or_default());
                out.push('\n');
            }
        }
    }
    Bytes::from(out)
}

/// Export every order matching `q` (no 10 000 cap), streamed.
#[utoipa::path(get, path = "/v1/orders/export", tag = "search", params(ExportParams),
    responses((status = 200, description = "CSV (default) or NDJSON (`format=ndjson`), streamed",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400)))]
pub async fn export_orders(
    State(state): State<AppState>,
    principal: Principal,
    ValidQuery(params): ValidQuery<ExportParams>,
) -> Result<Response, ApiError> {
    principal.require(SEARCHERS)?;
    let search = SearchParams {
        q: params.q,
        sort: None,
        limit: Some(PAGE),
        offset: None,
        facets: None,
        include_deleted: params.include_deleted,
        fresh: false,
        saved: params.saved,
    };
    let mut request = build_request(&state, &principal, &search).await?;
    request.sort = Sort::By {
        field: SortField::Number,
        descending: false,
    };
    let format = params.format.unwrap_or(ExportFormat::Csv);
    // Fail before streaming if the engine is down, so the client gets a status.
    let first = state.search.search(&request).await.map_err(engine_error)?;
    let first_page: Vec<OrderDocument> = first.hits.into_iter().map(|hit| hit.document).collect();
    let header_chunk = match format {
        ExportFormat::Csv => Bytes::from_static(CSV_HEADER.as_bytes()),
        ExportFormat::Ndjson => Bytes::new(),
    };
    let pages = stream::unfold(
        (state.search.clone(), request, Some(first_page)),
        move |(engine, request, page)| next_page(engine, request, page, format),
    );
    let body = Body::from_stream(futures::StreamExt::chain(
        stream::once(async move { Ok::<_, std::io::Error>(header_chunk) }),
        pages,
    ));
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Ndjson => "application/x-ndjson",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

type PageState = (SearchEngine, SearchRequest, Option<Vec<OrderDocument>>);

/// Renders the page at hand and fetches the next one after its last number.
async fn next_page(
    engine: SearchEngine,
    mut request: SearchRequest,
    page: Option<Vec<OrderDocument>>,
    format: ExportFormat,
) -> Option<(Result<Bytes, std::io::Error>, PageState)> {
    let page = page.filter(|page| !page.is_empty())?;
    let chunk = render(format, &page);
    let next = if page.len() < PAGE {
        None
    } else {
        request.after_number = page.last().and_then(|last| u64::try_from(last.number).ok());
        match engine.search(&request).await {
            Ok(results) => Some(results.hits.into_iter().map(|hit| hit.document).collect()),
            Err(error) => {
                tracing::error!(error = %error, "export stopped: the engine failed mid-stream");
                return Some((
                    Err(std::io::Error::other(error.to_string())),
                    (engine, request, None),
                ));
            }
        }
    };
    Some((Ok(chunk), (engine, request, next)))
}
