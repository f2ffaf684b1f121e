//! Deliveries to real HTTP receivers on loopback, made by the real dispatcher
//! with short retry waits: every event arrives once per id after dedupe, in
//! version order per subject, signed so that an independent implementation
//! (Python's `hmac`) verifies it; failures are retried, then given up; a dead
//! endpoint is disabled and says why; a slow one delays nobody else.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use base64::Engine;
use ordersearch::webhooks::{Settings, dispatch};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::receiver::{Attempt, Behaviour, Receiver};
use super::register;
use crate::helpers::{TestApp, eventually};
use crate::orders::place;

/// Retry waits of milliseconds instead of seconds.
fn quick(give_up_after: Duration, disable_after: Duration) -> Settings {
    Settings {
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(400),
        give_up_after,
        disable_after,
        timeout: Duration::from_secs(1),
        concurrency: 8,
        allowed_hosts: None,
    }
}

/// The dispatcher, running as `serve` runs it.
struct Dispatcher {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Dispatcher {
    fn start(app: &TestApp, settings: Settings) -> Dispatcher {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(dispatch::run(app.pool.clone(), settings, stopped));
        Dispatcher { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.expect("the dispatcher did not panic");
    }
}

/// `(event id, subject, version)` of every event in the log, in commit order.
async fn logged(app: &TestApp) -> Vec<(String, String, i64)> {
    let rows: Vec<(i64, uuid::Uuid, i32)> =
        sqlx::query_as("select id, subject_id, subject_version from events order by xact_id, id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, subject, version)| {
            (format!("evt_{id}"), subject.to_string(), i64::from(version))
        })
        .collect()
}

/// Checks every accepted attempt's signature with Python's `hmac` under each
/// of `secrets` (each must verify one of the space-separated signatures).
async fn verify_in_python(attempts: &[Attempt], secrets: &[&str]) {
    const CHECK: &str = r#"
import base64, hashlib, hmac, json, sys
data = json.load(open(sys.argv[1]))
for secret in data["secrets"]:
    key = base64.b64decode(secret[len("whsec_"):])
    for a in data["attempts"]:
        signed = (a["id"] + "." + a["timestamp"] + ".").encode() + base64.b64decode(a["body"])
        mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if "v1," + mac not in a["signature"].split(" "):
            sys.exit("bad signature on " + a["id"])
print("verified", len(data["attempts"]))
"#;
    let encoded: Vec<Value> = attempts
        .iter()
        .map(|attempt| {
            json!({"id": attempt.id, "timestamp": attempt.timestamp, "signature": attempt.signature,
                   "body": base64::engine::general_purpose::STANDARD.encode(&attempt.body)})
        })
        .collect();
    let file = std::env::temp_dir().join(format!("webhook-attempts-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        json!({"secrets": secrets, "attempts": encoded}).to_string(),
    )
    .unwrap();
    let run = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(CHECK)
        .arg(&file)
        .output()
        .await;
    let _ = std::fs::remove_file(&file);
    let Ok(output) = run else {
        return crate::helpers::skipped("python3 is not installed: signatures not cross-checked");
    };
    assert!(
        output.status.success(),
        "Python rejected a signature: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts a subject's accepted deliveries came in version order.
fn assert_version_order(delivered: &[Attempt]) {
    let mut last: HashMap<String, i64> = HashMap::new();
    for attempt in delivered {
        let event = attempt.event();
        let subject = event["subject_id"].as_str().unwrap().to_string();
        let version = event["subject_version"].as_i64().unwrap();
        let previous = last.insert(subject.clone(), version).unwrap_or(i64::MIN);
        assert!(
            version >= previous,
            "{subject}: version {version} after {previous}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_once_per_id_in_order_after_failed_attempts() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(Behaviour::FailFirst(2)).await;
    let made = register(&app, &receiver.url, json!(["*"])).await;
    let secret = made["secret"].as_str().unwrap().to_string();
    let dispatcher = Dispatcher::start(
        &app,
        quick(Duration::from_secs(60), Duration::from_secs(3600)),
    );
    app.product("default", "MUG", "12.50", 50).await;
    for _ in 0..3 {
        let order = place(&app, json!([{"sku": "MUG", "quantity": 2}])).await;
        let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
        for status in ["processing", "shipped"] {
            let moved = app
                .patch(&path, &json!({"status": status}))
                .key(&app.admin)
                .send()
                .await;
            assert_eq!(moved.status, 200, "{}", moved.body);
        }
    }
    let expected = logged(&app).await;
    assert_eq!(expected.len(), 1 + 3 * 3);
    let delivered = eventually("every event delivered", || async {
        let delivered = receiver.delivered();
        (delivered.len() >= expected.len()).then_some(delivered)
    })
    .await;
    let ids: HashSet<&str> = delivered
        .iter()
        .map(|attempt| attempt.id.as_str())
        .collect();
    let wanted: HashSet<&str> = expected.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids, wanted);
    assert_version_order(&delivered);
    let mut tries: HashMap<String, usize> = HashMap::new();
    for attempt in receiver.attempts() {
        *tries.entry(attempt.id).or_default() += 1;
    }
    assert!(
        wanted.iter().all(|id| tries.get(*id) == Some(&3)),
        "two failures and one success each: {tries:?}"
    );
    for attempt in &delivered {
        assert_eq!(
            attempt.event()["id"],
            attempt.id,
            "webhook-id is the event id"
        );
    }
    verify_in_python(&delivered, &[&secret]).await;

    let listed = app
        .get(&format!(
            "/v1/webhooks/{}/deliveries?limit=200",
            made["id"].as_str().unwrap()
        ))
        .key(&app.admin)
        .send()
        .await;
    let deliveries = listed.body["data"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), expected.len(), "{}", listed.body);
    for delivery in &deliveries {
        assert_eq!(delivery["status"], "delivered", "{delivery}");
        assert_eq!(delivery["attempts"], 3, "{delivery}");
        assert_eq!(delivery["last_status_code"], 204, "{delivery}");
        assert!(delivery["last_latency_ms"].as_i64().is_some());
    }
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_endpoint_delays_no_other_endpoint() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "12.50", 50).await;
    let slow = Receiver::start(Behaviour::Slow(Duration::from_secs(5))).await;
    let healthy = Receiver::start(Behaviour::Healthy).await;
    let slow_hook = register(&app, &slow.url, json!(["order.created"])).await;
    register(&app, &healthy.url, json!(["order.created"])).await;
    let dispatcher = Dispatcher::start(
        &app,
        quick(Duration::from_secs(60), Duration::from_secs(3600)),
    );
    for _ in 0..20 {
        place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    }
    eventually("the healthy endpoint has all 20", || async {
        (healthy.delivered().len() == 20).then_some(())
    })
    .await;
    assert!(
        slow.delivered().is_empty(),
        "the slow endpoint never answers in time"
    );
    let path = format!(
        "/v1/webhooks/{}/deliveries?status=pending",
        slow_hook["id"].as_str().unwrap()
    );
    let timed_out = eventually("a timed-out attempt recorded", || async {
        let listed = app.get(&path).key(&app.admin).send().await;
        listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|delivery| delivery["attempts"].as_i64() > Some(0))
            .cloned()
    })
    .await;
    assert_eq!(timed_out["last_status_code"], Value::Null);
    assert!(
        timed_out["last_error"]
            .as_str()
            .unwrap()
            .contains("timeout"),
        "{timed_out}"
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_gives_up_then_is_disabled_and_a_retry_delivers_later() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "12.50", 50).await;
    let receiver = Receiver::start(Behaviour::Dead).await;
    let made = register(&app, &receiver.url, json!(["order.created"])).await;
    let hook = format!("/v1/webhooks/{}", made["id"].as_str().unwrap());
    let disable_after = Duration::from_secs(2);
    let dispatcher = Dispatcher::start(&app, quick(Duration::from_secs(1), disable_after));
    place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let failed = eventually("the first delivery given up", || async {
        let listed = app
            .get(&format!("{hook}/deliveries?status=failed"))
            .key(&app.admin)
            .send()
            .await;
        listed.body["data"].as_array().unwrap().first().cloned()
    })
    .await;
    assert!(failed["attempts"].as_i64().unwrap() >= 2, "{failed}");
    assert_eq!(failed["last_status_code"], 500);
    eventually("failing for longer than disable_after", || async {
        let endpoint = app.get(&hook).key(&app.admin).send().await.body;
        let since: chrono::DateTime<chrono::Utc> =
            endpoint["failing_since"].as_str()?.parse().ok()?;
        (chrono::Utc::now() - since > chrono::Duration::from_std(disable_after).unwrap())
            .then_some(())
    })
    .await;
    place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    let disabled = eventually("the endpoint disabled", || async {
        let endpoint = app.get(&hook).key(&app.admin).send().await.body;
        (endpoint["status"] == "disabled").then_some(endpoint)
    })
    .await;
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{disabled}"
    );

    receiver.set(Behaviour::Healthy);
    let enabled = app
        .patch(&hook, &json!({"status": "enabled"}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(
        enabled.body["failing_since"],
        Value::Null,
        "{}",
        enabled.body
    );
    let retry = format!("{hook}/deliveries/{}/retry", failed["id"].as_str().unwrap());
    let retried = app.post(&retry, &json!({})).key(&app.admin).send().await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    eventually("both orders' events delivered", || async {
        (receiver.delivered().len() == 2).then_some(())
    })
    .await;
    let missing = app
        .post(&format!("{hook}/deliveries/whd_999999/retry"), &json!({}))
        .key(&app.admin)
        .send()
        .await;
    missing.assert_problem(404);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_endpoint_collects_deliveries_and_a_rotation_signs_with_both_secrets() {
    let app = TestApp::spawn().await;
    app.product("default", "MUG", "12.50", 50).await;
    let receiver = Receiver::start(Behaviour::Healthy).await;
    let made = register(&app, &receiver.url, json!(["order.created"])).await;
    let hook = format!("/v1/webhooks/{}", made["id"].as_str().unwrap());
    let paused = app
        .patch(&hook, &json!({"status": "paused"}))
        .key(&app.admin)
        .send()
        .await;
    assert_eq!(paused.status, 200);
    let dispatcher = Dispatcher::start(
        &app,
        quick(Duration::from_secs(60), Duration::from_secs(3600)),
    );
    place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
    eventually("the delivery recorded while paused", || async {
        let listed = app
            .get(&format!("{hook}/deliveries"))
            .key(&app.admin)
            .send()
            .await;
        (listed.body["data"].as_array().unwrap().len() == 1).then_some(())
    })
    .await;
    assert!(
        receiver.attempts().is_empty(),
        "nothing is sent while paused"
    );
    let rotated = app
        .post(&format!("{hook}/rotate-secret"), &json!({}))
        .key(&app.admin)
        .send()
        .await;
    let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
    app.patch(&hook, &json!({"status": "enabled"}))
        .key(&app.admin)
        .send()
        .await;
    let delivered = eventually("delivered on resume", || async {
        let delivered = receiver.delivered();
        (delivered.len() == 1).then_some(delivered)
    })
    .await;
    assert_eq!(
        delivered[0].signature.split(' ').count(),
        2,
        "{}",
        delivered[0].signature
    );
    verify_in_python(&delivered, &[made["secret"].as_str().unwrap(), &new_secret]).await;
    dispatcher.stop().await;
}
