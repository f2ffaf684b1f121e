//! The browser harness: Debian's Chromium driven through its own chromedriver
//! (WebDriver), one per test, on the console of a service on a real port. The
//! console bench (`benches/search/console.rs`) drives it too.
//!
//! Without `chromium` and `chromedriver` a test says it was skipped and passes,
//! unless `REQUIRE_BROWSER=1` (as in `.ci/run`), where it fails. Waits
//! are on what the page exposes (`data-state`, the URL, a row count), each with
//! a deadline; never on time alone.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, SemaphorePermit};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a wait on the page may take before the test fails.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(20);
/// Browsers running at once: each is several processes, and the machine has two cores.
static BROWSERS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// A signed-out browser on the console of a running app.
pub struct Console {
    pub client: Client,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    driver_url: String,
    profile: PathBuf,
    _driver: Child,
    _permit: SemaphorePermit<'static>,
}

/// Why there is no browser to drive, if there is none; with `REQUIRE_BROWSER=1`
/// a missing browser fails the test instead.
pub fn browser_missing() -> Option<String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return None;
    }
    let why =
        format!("needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
    assert!(
        std::env::var("REQUIRE_BROWSER").as_deref() != Ok("1"),
        "REQUIRE_BROWSER=1 but the browser is missing: {why}"
    );
    Some(why)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound address").port()
}

impl Console {
    /// Starts a browser at 1280×900 on the console served at `base`
    /// (`http://127.0.0.1:<port>`).
    pub async fn open(base: String) -> Console {
        let permit = BROWSERS.acquire().await.expect("browser permits");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TZ", "UTC")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starting chromedriver");
        let profile = std::env::temp_dir().join(format!(
            "ordersearch-browser-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", "--disable-sync",
                    "--disable-extensions", "--lang=en-US",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let attempt = ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(client) => break client,
                Err(error) if started.elapsed() < PAGE_DEADLINE => {
                    // chromedriver is still starting: its port is not open yet.
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("starting a browser session: {error}"),
            }
        };
        Console {
            client,
            base,
            driver_url: url,
            profile,
            _driver: driver,
            _permit: permit,
        }
    }

    /// Opens `path` of the console.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigating");
    }

    /// Opens the console and signs in with `key`, waiting for the signed-in page.
    pub async fn sign_in(&self, path: &str, key: &str) {
        self.goto(path).await;
        let field = self.wait_for("#sign-in #api-key").await;
        field.send_keys(key).await.expect("typing the key");
        self.click("#sign-in button[type=submit]").await;
        self.wait_for("#whoami:not(:empty)").await;
    }

    /// The first element matching `css`, once there (fails after the deadline).
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PAGE_DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("waiting for `{css}`: {error}"))
    }

    /// Every element matching `css` now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("finding elements")
    }

    /// The text of the first element matching `css`, once there.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.expect("reading text")
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.expect("clicking");
    }

    /// Presses one key where the focus is, as a person would (`'j'`, or one of
    /// WebDriver's codes for special keys).
    pub async fn press(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(actions)
            .await
            .expect("pressing a key");
    }

    /// Waits until `script` (a JavaScript expression) is truthy; returns its value.
    pub async fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self
                .client
                .execute(&format!("return ({script});"), vec![])
                .await
                .expect("running a script");
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(text) => !text.is_empty(),
                Value::Number(number) => number.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(
                started.elapsed() < PAGE_DEADLINE,
                "timed out waiting for {what} ({script})"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The path and query of the page's address.
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Types `text` into the search box, replacing what it held, and waits for
    /// the results painted for exactly that query.
    pub async fn search(&self, text: &str) -> usize {
        let field = self.wait_for("#q").await;
        field.clear().await.expect("clearing the search box");
        field.send_keys(text).await.expect("typing a query");
        self.wait_for_results(text).await
    }

    /// Waits until `#results` is painted for `q`; returns the number of hits shown.
    pub async fn wait_for_results(&self, q: &str) -> usize {
        let q = serde_json::to_string(q).expect("a string");
        self.until(
            &format!("results for {q}"),
            &format!(
                "(() => {{ const r = document.querySelector('#results'); \
                 return r && r.dataset.q === {q} && \
                 ['ready', 'empty'].includes(r.dataset.state); }})()"
            ),
        )
        .await;
        self.all("#results a.hit").await.len()
    }

    /// Saves a PNG of the page under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("creating target/screenshots");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("writing a screenshot");
    }

    /// Errors the page logged (CSP violations, uncaught exceptions), read from
    /// chromedriver's log endpoint; not the failed requests it logs.
    pub async fn console_errors(&self) -> Vec<String> {
        let session = self.client.session_id().await.expect("session id");
        let session = session.expect("a session");
        let logs: Value = reqwest::Client::new()
            .post(format!("{}/session/{session}/se/log", self.driver_url))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .expect("asking chromedriver for the browser log")
            .json()
            .await
            .expect("the browser log as JSON");
        logs["value"]
            .as_array()
            .into_iter()
            .flatten()
            // Chromium logs every non-2xx fetch as a network error; the API's
            // 4xx answers are expected there.
            .filter(|entry| entry["level"] == "SEVERE" && entry["source"] != "network")
            .filter_map(|entry| entry["message"].as_str().map(str::to_string))
            .collect()
    }

    /// Checks that the page logged no error (a CSP violation, an uncaught
    /// exception) in the whole test, then ends the session and its browser.
    pub async fn finish(self) {
        let errors = self.console_errors().await;
        let _ = self.client.clone().close().await;
        assert!(errors.is_empty(), "the page logged errors: {errors:?}");
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        // A test that failed before `close` leaves Chromium running under its
        // own profile directory: stop it by that name, then remove the profile.
        let _ = std::process::Command::new("pkill")
            .arg("-f")
            .arg(self.profile.display().to_string())
            .status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
