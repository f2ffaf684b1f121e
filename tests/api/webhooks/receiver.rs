//! A real HTTP receiver on loopback that records every delivery attempt and
//! answers as the test tells it: healthy, failing each event's first
//! attempts, failing everything for a while, or too slow to answer. The
//! webhook bench includes this file too, using only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    Healthy,
    /// Each event id's first `n` attempts answer 500.
    FailFirst(usize),
    /// Every attempt answers 500 until the receiver is this old.
    FailFor(Duration),
    /// Every attempt answers 500.
    Dead,
    /// Every attempt waits this long before answering 200.
    Slow(Duration),
}

/// One attempt as received.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    /// Whether it was answered 2xx.
    pub accepted: bool,
}

impl Attempt {
    pub fn event(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON event")
    }
}

#[derive(Clone)]
struct Shared {
    behaviour: Arc<Mutex<Behaviour>>,
    started: Instant,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

/// A running receiver.
pub struct Receiver {
    pub url: String,
    shared: Shared,
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let shared = Shared {
            behaviour: Arc::new(Mutex::new(behaviour)),
            started: Instant::now(),
            attempts: Arc::default(),
            seen: Arc::default(),
        };
        let router = Router::new()
            .route("/hooks", post(receive))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, shared }
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.shared.attempts.lock().unwrap().clone()
    }

    /// The accepted attempts, first per event id (what a deduping consumer keeps).
    pub fn delivered(&self) -> Vec<Attempt> {
        let mut seen = std::collections::HashSet::new();
        self.attempts()
            .into_iter()
            .filter(|attempt| attempt.accepted && seen.insert(attempt.id.clone()))
            .collect()
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let id = header("webhook-id");
    let tries = {
        let mut seen = shared.seen.lock().unwrap();
        let count = seen.entry(id.clone()).or_default();
        *count += 1;
        *count
    };
    let behaviour = *shared.behaviour.lock().unwrap();
    let accepted = match behaviour {
        Behaviour::Healthy => true,
        Behaviour::FailFirst(n) => tries > n,
        Behaviour::FailFor(period) => shared.started.elapsed() >= period,
        Behaviour::Dead => false,
        Behaviour::Slow(wait) => {
            tokio::time::sleep(wait).await;
            true
        }
    };
    shared.attempts.lock().unwrap().push(Attempt {
        id,
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}
