//! Search as you type in the staff console at a million orders: from the last
//! keystroke to the results painted, as the page measures it (Performance API,
//! `#results[data-latency-ms]`; the 150 ms debounce included), in Debian's
//! Chromium, next to the same request through the API alone.

#[allow(dead_code)]
#[path = "../../tests/api/console/browser.rs"]
mod browser;

use std::time::{Duration, Instant};

use crate::queries::StaffQuery;
use crate::support::{ADMIN_KEY, Stats};

/// Queries typed per round; the first of `ROUNDS` rounds warms up.
const TYPED: usize = 40;
const ROUNDS: usize = 4;
/// Control+A, then the modifier released (WebDriver's key codes).
const SELECT_ALL: &str = "\u{e009}a\u{e000}";
/// The page's request for the first page of hits.
const PAGE_REQUEST: &str = "limit=25&offset=0&facets=status,category,store,country";

/// Types the staff queries into the console and prints the p50/p95 of
/// keystroke-to-paint beside the API's own answer time for the same request.
pub async fn figures(base: &str, queries: &[StaffQuery]) {
    if let Some(why) = browser::browser_missing() {
        return println!("console figures skipped: {why}");
    }
    let page = browser::Console::open(base.to_string()).await;
    page.sign_in("/", ADMIN_KEY).await;
    page.wait_for_results("").await;
    let http = crate::support::client(1);
    let (mut typed, mut api) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for round in 0..ROUNDS {
        for query in queries.iter().take(TYPED) {
            // Select what the box holds and type over it, as staff do (a
            // WebDriver clear would fire no input event).
            let field = page.wait_for("#q").await;
            let keys = format!("{SELECT_ALL}{}", query.q);
            field.send_keys(&keys).await.expect("typing");
            page.wait_for_results(&query.q).await;
            let painted = page
                .until(
                    "the latency measure",
                    "document.querySelector('#results').dataset.latencyMs",
                )
                .await;
            let painted: f64 = painted.as_str().unwrap_or("0").parse().unwrap_or(0.0);
            let alone = api_alone(&http, base, &query.q).await;
            if round > 0 {
                typed.push(Duration::from_secs_f64(painted / 1000.0));
                api.push(alone);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let typed = Stats::from_latencies(typed, 0, seconds);
    let api = Stats::from_latencies(api, 0, seconds);
    println!(
        "search as you type ({} typed queries, Chromium): keystroke to painted p50 {:.1} ms, \
         p95 {:.1} ms (target < 300) | the same request through the API alone: \
         p50 {:.1} ms, p95 {:.1} ms | ratio at p95 {:.1}x (the page waits 150 ms \
         after the last key)",
        typed.requests,
        typed.p50_ms,
        typed.p95_ms,
        api.p50_ms,
        api.p95_ms,
        typed.p95_ms / api.p95_ms.max(0.001),
    );
    page.finish().await;
}

/// The page's first request for `q`, timed from the bench.
async fn api_alone(http: &reqwest::Client, base: &str, q: &str) -> Duration {
    let encoded: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let url = format!("{base}/v1/orders/search?q={encoded}&{PAGE_REQUEST}");
    let begun = Instant::now();
    let response = http.get(&url).bearer_auth(ADMIN_KEY).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let _ = response.bytes().await;
    begun.elapsed()
}
