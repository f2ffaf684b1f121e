//! A paged HTTP feed of orders, json-server style: `GET URL?_page=N&_limit=L`
//! answering an array (json-server 0.17, total in `X-Total-Count`) or
//! `{data, next, pages, items}` (json-server 1.x). Pages are read until a
//! short or empty page, a `next` of null, or a `Link` header without
//! `rel="next"`; a `Link: <…>; rel="next"` is followed when sent.
//!
//! 429, 5xx, timeouts and dropped connections are retried with exponential
//! backoff (a `Retry-After` in seconds is honoured), up to `tries` attempts;
//! then the run stops with a message naming the URL and the last answer.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::sync::mpsc;
use url::Url;

use super::input::{Batch, Position, Raw, Record};

/// Longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// A feed and how to page through it.
#[derive(Debug, Clone)]
pub struct HttpSource {
    pub url: Url,
    pub page_param: String,
    pub limit_param: String,
    /// Page size sent as the limit parameter.
    pub limit: u64,
    pub headers: HeaderMap,
    /// Attempts per page before giving up.
    pub tries: u32,
    /// Per request.
    pub timeout: Duration,
    /// The first backoff; it doubles with each retry (30 s at most).
    pub backoff: Duration,
}

/// Parses `Name: value` for `--header`.
pub fn parse_header(text: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    let (name, value) = text.split_once(':').context("a header is `Name: value`")?;
    Ok((
        HeaderName::try_from(name.trim()).context("a header name")?,
        HeaderValue::try_from(value.trim()).context("a header value")?,
    ))
}

/// One page as read.
struct Page {
    items: Vec<Value>,
    /// What comes next: `None` when this was the last page.
    next: Option<Next>,
    total: Option<u64>,
}

enum Next {
    Number(u64),
    Link(Url),
    /// The page after this one.
    Following,
}

impl HttpSource {
    fn page_url(&self, page: u64) -> Url {
        let mut url = self.url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| name != &self.page_param && name != &self.limit_param)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair(&self.page_param, &page.to_string())
            .append_pair(&self.limit_param, &self.limit.to_string());
        url
    }

    /// Reads pages from `start`, sending one batch per page.
    pub async fn read(self, start: Position, sender: mpsc::Sender<anyhow::Result<Batch>>) {
        if let Err(error) = self.read_pages(start, &sender).await {
            let _ = sender.send(Err(error)).await;
        }
    }

    async fn read_pages(
        &self,
        start: Position,
        sender: &mpsc::Sender<anyhow::Result<Batch>>,
    ) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .default_headers(self.headers.clone())
            .build()?;
        let mut page = start.page.unwrap_or(1);
        let mut link = start.url.as_deref().map(Url::parse).transpose()?;
        let mut consumed = start.record;
        loop {
            let url = link.clone().unwrap_or_else(|| self.page_url(page));
            let read = self.fetch(&client, &url).await?;
            let records: Vec<Record> = read
                .items
                .into_iter()
                .map(|item| {
                    consumed += 1;
                    Record {
                        line: consumed,
                        value: Ok(item.clone()),
                        raw: Raw::Element(item),
                    }
                })
                .collect();
            let (next_page, next_link) = match &read.next {
                Some(Next::Number(number)) => (*number, None),
                Some(Next::Link(url)) => (page + 1, Some(url.clone())),
                Some(Next::Following) | None => (page + 1, None),
            };
            let batch = Batch {
                records,
                after: Position {
                    record: consumed,
                    page: Some(next_page),
                    url: next_link.as_ref().map(Url::to_string),
                    ..Position::default()
                },
                bytes: 0,
                total: read.total,
            };
            if sender.send(Ok(batch)).await.is_err() || read.next.is_none() {
                return Ok(());
            }
            page = next_page;
            link = next_link;
        }
    }

    /// One page, retried as the module says.
    async fn fetch(&self, client: &reqwest::Client, url: &Url) -> anyhow::Result<Page> {
        let mut last = String::new();
        for attempt in 0..self.tries.max(1) {
            let backoff =
                (self.backoff * 2u32.saturating_pow(attempt)).min(Duration::from_secs(30));
            let response = match client.get(url.clone()).send().await {
                Ok(response) => response,
                Err(error) if error.is_timeout() || error.is_connect() || error.is_request() => {
                    last = format!("{error}");
                    tracing::warn!(%url, attempt, error = %last, "the feed did not answer; retrying");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                Err(error) => return Err(error).with_context(|| format!("reading {url}")),
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                let wait = retry_after(response.headers()).unwrap_or(backoff);
                last = format!("HTTP {status}");
                tracing::warn!(%url, attempt, %status, wait_ms = wait.as_millis() as u64, "the feed asked to wait; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                bail!("{url} answered HTTP {status}: {text}");
            }
            let headers = response.headers().clone();
            let body: Value = match response.json().await {
                Ok(body) => body,
                Err(error) if error.is_timeout() || error.is_body() || error.is_decode() => {
                    last = format!("{error}");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                Err(error) => return Err(error).with_context(|| format!("reading {url}")),
            };
            return self.page(url, &headers, body);
        }
        bail!(
            "giving up on {url} after {} tries; the last answer was {last}",
            self.tries.max(1)
        )
    }

    fn page(&self, url: &Url, headers: &HeaderMap, body: Value) -> anyhow::Result<Page> {
        let header_total = headers
            .get("x-total-count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let link = headers
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(|v| next_link(url, v));
        let (items, next_number, total) = match body {
            Value::Array(items) => (items, None, header_total),
            Value::Object(mut object) => {
                let Some(Value::Array(items)) = object.remove("data") else {
                    bail!("{url} answered an object without a `data` array");
                };
                // json-server 1.x: `next` is the next page's number, null on the last.
                let next = match object.get("next") {
                    Some(Value::Number(n)) => Some(n.as_u64()),
                    Some(Value::Null) => Some(None),
                    _ => None,
                };
                let total = object.get("items").and_then(Value::as_u64).or(header_total);
                (items, next, total)
            }
            _ => bail!("{url} answered neither an array nor an object with `data`"),
        };
        let next = match (link, next_number) {
            (Some(link), _) => link.map(Next::Link),
            (None, Some(next)) => next.map(Next::Number),
            (None, None) => None,
        };
        let next = match next {
            _ if items.is_empty() => None,
            Some(next) => Some(next),
            // No link and no `next`: pages go on while they are full.
            None if (items.len() as u64) < self.limit => None,
            None if link_or_next_given(headers, next_number) => None,
            None => Some(Next::Following),
        };
        Ok(Page { items, next, total })
    }
}

/// Whether the source said there is no next page (so a full page still ends).
fn link_or_next_given(headers: &HeaderMap, next: Option<Option<u64>>) -> bool {
    headers.contains_key(reqwest::header::LINK) || next.is_some()
}

/// The `rel="next"` target of a `Link` header, resolved against `base`.
fn next_link(base: &Url, header: &str) -> Option<Url> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            matches!(
                p.trim().replace(' ', "").as_str(),
                "rel=\"next\"" | "rel=next"
            )
        });
        is_next.then(|| base.join(target).ok()).flatten()
    })
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}
