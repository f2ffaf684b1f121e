//! The zero-config start, for real: the `ordersearch` binary with no
//! configuration starts a private PostgreSQL, becomes ready, stops both cleanly
//! on Ctrl-C (SIGINT), and a second start reuses the data.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "os_zero_config_test_key_000000000000000000000";

fn start(data_dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ordersearch"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("MEILI_URL")
        .env("ORDERSEARCH_DATA_DIR", data_dir)
        .env("ORDERSEARCH_BIND", format!("127.0.0.1:{port}"))
        .env("ORDERSEARCH_ADMIN_KEY", KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting ordersearch serve")
}

async fn wait_ready(client: &reqwest::Client, base: &str, child: &mut Child) {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "serve exited before becoming ready"
        );
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "serve did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn interrupt_and_wait(child: &mut Child) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serve_with_no_configuration_starts_stops_and_restarts_on_its_own_data() {
    let data_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tmp")
        .join(format!("zero-config-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut first = start(&data_dir, port);
    wait_ready(&client, &base, &mut first).await;
    let product = serde_json::json!({"sku": "KEEP-ME", "name": "Kept", "category": "Test", "price": "1.00", "stock": 1});
    let created = client
        .post(format!("{base}/v1/products"))
        .bearer_auth(KEY)
        .json(&product)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        interrupt_and_wait(&mut first).success(),
        "a clean exit on Ctrl-C"
    );
    assert!(
        !data_dir.join("postgres/postmaster.pid").exists(),
        "the private cluster stopped with the service"
    );

    let mut second = start(&data_dir, port);
    wait_ready(&client, &base, &mut second).await;
    let kept = client
        .get(format!("{base}/v1/products/{id}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        kept.status().as_u16(),
        200,
        "the second start reuses the data"
    );
    assert!(interrupt_and_wait(&mut second).success());
    let _ = std::fs::remove_dir_all(&data_dir);
}
