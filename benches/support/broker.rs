//! A consumer of the relay's exchange on the machine's RabbitMQ: an exclusive
//! queue bound with one routing key, every event's arrival time and body.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use serde_json::Value;

/// Events as they arrived, in arrival order.
pub type Arrivals = Arc<Mutex<Vec<(Instant, Value)>>>;

/// Starts consuming the events routed by `binding` (`#` for all).
pub async fn consume(url: &str, binding: &str) -> Arrivals {
    let (connection, channel) = ordersearch::events::relay::open_channel(url)
        .await
        .expect("a RabbitMQ broker at AMQP_URL");
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..Default::default()
    };
    let queue = channel
        .queue_declare("".into(), exclusive, FieldTable::default())
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.name().clone(),
            ordersearch::events::relay::EXCHANGE.into(),
            binding.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let no_ack = BasicConsumeOptions {
        no_ack: true,
        ..Default::default()
    };
    let mut consumer = channel
        .basic_consume(
            queue.name().clone(),
            "bench".into(),
            no_ack,
            FieldTable::default(),
        )
        .await
        .unwrap();
    let arrivals: Arrivals = Arc::default();
    let sink = arrivals.clone();
    tokio::spawn(async move {
        let _connection = connection;
        while let Some(Ok(delivery)) = consumer.next().await {
            let event: Value = serde_json::from_slice(&delivery.data).unwrap_or(Value::Null);
            sink.lock().unwrap().push((Instant::now(), event));
        }
    });
    arrivals
}
