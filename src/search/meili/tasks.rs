//! Calls to Meilisearch with a deadline, the outcome of its asynchronous tasks,
//! and how both become [`EngineError`]s: the engine is `Unavailable` (retry
//! everything later) or it `Rejected` what was sent (the indexer splits the
//! batch to find and record the bad document).
//!
//! Tasks are polled as raw JSON rather than with the SDK's `wait_for_task`:
//! the SDK's `Task` has no `canceled` status and fails to parse one.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use meilisearch_sdk::errors::{Error, ErrorCode, ErrorType};
use meilisearch_sdk::request::{HttpClient, Method};
use meilisearch_sdk::reqwest::ReqwestClient;
use serde_json::Value;

use crate::search::engine::EngineError;

/// The longest any single HTTP call may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs one SDK call under [`REQUEST_TIMEOUT`], classifying its failure.
pub async fn call<T>(
    what: &str,
    future: impl Future<Output = Result<T, Error>>,
) -> Result<T, EngineError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(classify(what, error)),
        Err(_) => Err(EngineError::Unavailable(anyhow!(
            "{what}: Meilisearch did not answer within {REQUEST_TIMEOUT:?}"
        ))),
    }
}

/// A refused request is `Rejected` when the request itself was at fault
/// (invalid document, payload too large), `Unavailable` otherwise.
pub fn classify(what: &str, error: Error) -> EngineError {
    let rejected = match &error {
        Error::Meilisearch(error) => {
            error.error_type == ErrorType::InvalidRequest
                && error.error_code != ErrorCode::IndexNotFound
        }
        Error::MeilisearchCommunication(error) => error.status_code == 413,
        _ => false,
    };
    let error = anyhow::Error::new(error).context(what.to_string());
    if rejected {
        EngineError::Rejected(error)
    } else {
        EngineError::Unavailable(error)
    }
}

/// How a finished task ended.
#[derive(Debug)]
pub enum TaskOutcome {
    Succeeded,
    /// Failed with Meilisearch's `{code, type, message}`.
    Failed {
        code: String,
        kind: String,
        message: String,
    },
    Canceled,
}

impl TaskOutcome {
    fn from_json(task: &Value) -> Option<Self> {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
        match task["status"].as_str()? {
            "succeeded" => Some(TaskOutcome::Succeeded),
            "canceled" => Some(TaskOutcome::Canceled),
            "failed" => Some(TaskOutcome::Failed {
                code: text(&task["error"]["code"]),
                kind: text(&task["error"]["type"]),
                message: text(&task["error"]["message"]),
            }),
            _ => None,
        }
    }

    /// `Ok` when the task succeeded. A canceled task is retried (someone
    /// canceled it, the documents are fine); a task that failed because of what
    /// it carried is `Rejected`; one that failed for lack of resources (disk,
    /// database size) or access is `Unavailable`.
    pub fn into_result(self, what: &str) -> Result<(), EngineError> {
        match self {
            TaskOutcome::Succeeded => Ok(()),
            TaskOutcome::Canceled => Err(EngineError::Unavailable(anyhow!(
                "{what}: the task was canceled"
            ))),
            TaskOutcome::Failed {
                code,
                kind,
                message,
            } => {
                let error = anyhow!("{what}: {code}: {message}");
                let resources =
                    kind == "system" || kind == "auth" || code == "database_size_limit_reached";
                Err(if resources {
                    EngineError::Unavailable(error)
                } else {
                    EngineError::Rejected(error)
                })
            }
        }
    }
}

/// Waits for task `uid` (see [`outcome`]); `Ok` only if it succeeded.
pub async fn wait(
    http: &ReqwestClient,
    host: &str,
    uid: u32,
    timeout: Duration,
    what: &str,
) -> Result<(), EngineError> {
    outcome(http, host, uid, timeout, what)
        .await?
        .into_result(what)
}

/// Polls task `uid` until it has finished or `timeout` has passed, checking
/// quickly at first (most batches take milliseconds) and every 250 ms later.
pub async fn outcome(
    http: &ReqwestClient,
    host: &str,
    uid: u32,
    timeout: Duration,
    what: &str,
) -> Result<TaskOutcome, EngineError> {
    let url = format!("{host}/tasks/{uid}");
    let deadline = Instant::now() + timeout;
    let mut interval = Duration::from_millis(5);
    loop {
        let task: Value = call(
            what,
            http.request::<(), (), Value>(&url, Method::Get { query: () }, 200),
        )
        .await?;
        if let Some(outcome) = TaskOutcome::from_json(&task) {
            return Ok(outcome);
        }
        if Instant::now() + interval > deadline {
            return Err(EngineError::Unavailable(anyhow!(
                "{what}: task {uid} did not finish within {timeout:?}"
            )));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_millis(250));
    }
}

/// How many tasks of index `index_uid` wait in the queue, not yet picked up
/// into a batch. Servers older than 1.7 do not count them: 0 or 1 there.
pub async fn enqueued(
    http: &ReqwestClient,
    host: &str,
    index_uid: &str,
) -> Result<u64, EngineError> {
    let url = format!("{host}/tasks?statuses=enqueued&indexUids={index_uid}&limit=1");
    let tasks: Value = call(
        "counting queued tasks",
        http.request::<(), (), Value>(&url, Method::Get { query: () }, 200),
    )
    .await?;
    Ok(tasks["total"].as_u64().unwrap_or_else(|| {
        tasks["results"]
            .as_array()
            .map_or(0, |results| results.len() as u64)
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn task_outcomes_map_to_retry_or_reject() {
        let outcome =
            |task: Value| TaskOutcome::from_json(&task).map(|outcome| outcome.into_result("t"));
        assert!(matches!(
            outcome(json!({"status": "succeeded"})),
            Some(Ok(()))
        ));
        assert!(outcome(json!({"status": "processing"})).is_none());
        assert!(matches!(
            outcome(json!({"status": "canceled"})),
            Some(Err(EngineError::Unavailable(_)))
        ));
        let bad_document = json!({"status": "failed", "error": {"code": "invalid_document_id", "type": "invalid_request", "message": "m"}});
        assert!(matches!(
            outcome(bad_document),
            Some(Err(EngineError::Rejected(_)))
        ));
        let full_disk = json!({"status": "failed", "error": {"code": "no_space_left_on_device", "type": "system", "message": "m"}});
        assert!(matches!(
            outcome(full_disk),
            Some(Err(EngineError::Unavailable(_)))
        ));
        let full_database = json!({"status": "failed", "error": {"code": "database_size_limit_reached", "type": "internal", "message": "m"}});
        assert!(matches!(
            outcome(full_database),
            Some(Err(EngineError::Unavailable(_)))
        ));
    }
}
