//! Export of a large match set, streamed, with the server's memory watched.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::support::{self, ADMIN_KEY};

/// Streams a large export and watches the server's memory meanwhile.
pub async fn export(http: &reqwest::Client, server: &support::Server, pool: &PgPool) {
    let _ = pool;
    let mut chosen = None;
    for candidate in [
        "status:completed created:-180d",
        "status:completed created:-120d",
        "status:completed created:-90d",
        "status:completed",
    ] {
        let encoded: String = form_urlencoded::byte_serialize(candidate.as_bytes()).collect();
        let body = support::admin_get(
            http,
            &format!("{}/v1/orders/search?q={encoded}&limit=1", server.base),
        )
        .await;
        let total = body["total"].as_u64().unwrap_or(0);
        if (80_000..=250_000).contains(&total) || candidate == "status:completed" {
            chosen = Some((candidate, total));
            break;
        }
    }
    let (query, total) = chosen.unwrap();
    let (before, anon_before) = (server.rss_mib(), server.rss_anon_mib());
    let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let started = Instant::now();
    let mut response = http
        .get(format!(
            "{}/v1/orders/export?q={encoded}&format=csv",
            server.base
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let (mut bytes, mut lines, mut peak, mut anon_peak) = (0usize, 0usize, before, anon_before);
    let mut last_sample = Instant::now();
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        if last_sample.elapsed() > Duration::from_millis(50) {
            peak = peak.max(server.rss_mib());
            anon_peak = anon_peak.max(server.rss_anon_mib());
            last_sample = Instant::now();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "export {query:?} ({total} matches): {} rows, {:.1} MB in {seconds:.1} s ({:.0} rows/s); server RSS {before:.1} MiB before, peak {peak:.1} MiB while streaming, {:.1} MiB after; of it anonymous (not the mapped index) {anon_before:.1} MiB before, peak {anon_peak:.1} MiB",
        lines.saturating_sub(1),
        bytes as f64 / 1e6,
        lines as f64 / seconds,
        server.rss_mib()
    );
}
