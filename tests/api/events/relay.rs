//! The RabbitMQ relay against the machine's real broker (`AMQP_URL`, default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`; skipped, saying why, when none
//! answers): every event reaches a queue bound to the exchange, once per id
//! after dedupe and in version order per subject, across a connection cut
//! mid-stream (the relay talks to the broker through a proxy the test cuts).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use ordersearch::events::relay;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{TestApp, eventually};
use crate::orders::place;

fn broker_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A TCP proxy to the broker whose open connections the test can cut.
struct Proxy {
    address: SocketAddr,
    cuts: watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (cuts, cut) = watch::channel(0);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut cut = cut.clone();
                cut.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { address, cuts }
    }

    /// Drops every connection open now (new ones go through).
    fn cut(&self) {
        self.cuts.send_modify(|count| *count += 1);
    }
}

/// One message as the queue received it.
#[derive(Debug, Clone)]
struct Received {
    routing_key: String,
    message_id: Option<String>,
    content_type: Option<String>,
    persistent: bool,
    event: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_publishes_every_event_once_per_id_in_version_order_across_a_cut_connection() {
    let url = broker_url();
    let Ok((_consumer_connection, channel)) = relay::open_channel(&url).await else {
        return crate::helpers::skipped("no AMQP broker answers at AMQP_URL or 127.0.0.1:5672");
    };
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let bind = QueueBindOptions::default();
    channel
        .queue_bind(
            queue.name().clone(),
            relay::EXCHANGE.into(),
            "#".into(),
            bind,
            FieldTable::default(),
        )
        .await
        .unwrap();
    let no_ack = BasicConsumeOptions {
        no_ack: true,
        ..BasicConsumeOptions::default()
    };
    let mut consumer = channel
        .basic_consume(
            queue.name().clone(),
            "relay-test".into(),
            no_ack,
            FieldTable::default(),
        )
        .await
        .unwrap();
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let sink = received.clone();
    tokio::spawn(async move {
        while let Some(Ok(delivery)) = consumer.next().await {
            let properties = &delivery.properties;
            sink.lock().unwrap().push(Received {
                routing_key: delivery.routing_key.as_str().to_string(),
                message_id: properties
                    .message_id()
                    .as_ref()
                    .map(|id| id.as_str().to_string()),
                content_type: properties
                    .content_type()
                    .as_ref()
                    .map(|t| t.as_str().to_string()),
                persistent: *properties.delivery_mode() == Some(2),
                event: serde_json::from_slice(&delivery.data).unwrap_or(Value::Null),
            });
        }
    });

    let app = TestApp::spawn().await;
    let proxy = Proxy::start("127.0.0.1:5672".parse().unwrap()).await;
    let through_proxy = url.replacen("127.0.0.1:5672", &proxy.address.to_string(), 1);
    let (stop, stopped) = watch::channel(false);
    let relaying = tokio::spawn(relay::run(app.pool.clone(), through_proxy, stopped));

    let product = app.product("default", "MUG", "12.50", 1000).await;
    let mut subjects: HashSet<Value> = HashSet::from([product["id"].clone()]);
    for round in 0..2 {
        for _ in 0..15 {
            let order = place(&app, json!([{"sku": "MUG", "quantity": 1}])).await;
            let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
            let moved = app
                .patch(&path, &json!({"status": "processing"}))
                .key(&app.admin)
                .send()
                .await;
            assert_eq!(moved.status, 200, "{}", moved.body);
            subjects.insert(order["id"].clone());
        }
        if round == 0 {
            eventually("the first events at the queue", || async {
                let ours = received
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|r| subjects.contains(&r.event["subject_id"]));
                ours.then_some(())
            })
            .await;
            proxy.cut();
        }
    }

    // 1 product + 30 orders × (created, status_changed).
    let expected = 61;
    let ours: Vec<Received> = eventually("every event at the queue", || async {
        let ours: Vec<Received> = received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| subjects.contains(&r.event["subject_id"]))
            .cloned()
            .collect();
        let ids: HashSet<&Value> = ours.iter().map(|r| &r.event["id"]).collect();
        (ids.len() >= expected).then_some(ours.clone())
    })
    .await;
    eventually("the relay's lag back to zero", || async {
        let status = app.get("/v1/events/status").key(&app.admin).send().await;
        (status.body["relay"]["events_behind"] == 0).then_some(())
    })
    .await;
    let _ = stop.send(true);
    relaying.await.unwrap();

    let mut first_seen: Vec<&Received> = Vec::new();
    let mut ids = HashSet::new();
    for message in &ours {
        assert_eq!(message.message_id.as_deref(), message.event["id"].as_str());
        assert_eq!(
            Some(message.routing_key.as_str()),
            message.event["type"].as_str()
        );
        assert_eq!(message.content_type.as_deref(), Some("application/json"));
        assert!(message.persistent, "{message:?}");
        if ids.insert(message.message_id.clone()) {
            first_seen.push(message);
        }
    }
    assert_eq!(
        first_seen.len(),
        expected,
        "exactly the events written, once per id"
    );
    let mut versions: HashMap<&Value, i64> = HashMap::new();
    for message in first_seen {
        let version = message.event["subject_version"].as_i64().unwrap();
        let last = versions.insert(&message.event["subject_id"], version);
        assert!(
            last.is_none_or(|last| last < version),
            "out of order: {message:?}"
        );
    }
}
