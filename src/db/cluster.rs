//! A private PostgreSQL cluster started from the local binaries (`initdb`, `pg_ctl`).
//!
//! This is what makes `ordersearch serve` zero-config: with no `DATABASE_URL`, the
//! service keeps its own cluster under the data directory, reachable only through a
//! Unix socket. PostgreSQL refuses to run as root, so when we are root the cluster's
//! files belong to the `postgres` user and its commands run as that user; when
//! that user cannot reach the data directory (a checkout in root's 0700 home),
//! the cluster lives under `/var/lib/ordersearch` instead, and the log says so.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

/// The user that owns the cluster when the service runs as root.
const SYSTEM_USER: &str = "postgres";
/// Unix socket paths are limited to 107 bytes.
const MAX_SOCKET_PATH: usize = 100;

/// A cluster under a directory of ours, started (or found running) by [`PrivateCluster::start`].
#[derive(Debug)]
pub struct PrivateCluster {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<nix::unistd::User>,
    started_by_us: bool,
}

impl PrivateCluster {
    /// Initializes the cluster if it is new and starts it unless it already runs.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().context(
            "no DATABASE_URL is set and no PostgreSQL server binaries (initdb, pg_ctl) were found: \
             install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL",
        )?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("resolving {}", data_dir.display()))?;
        let (data_dir, run_as) = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name(SYSTEM_USER)?.context(
                "running as root needs a `postgres` system user to own the private cluster",
            )?;
            give_to(&data_dir, &user)?;
            let data_dir = if reachable_by(&user, &data_dir).await {
                data_dir
            } else {
                relocate(&data_dir, &user)?
            };
            (data_dir, Some(user))
        } else {
            (data_dir, None)
        };
        let socket_dir = socket_dir_for(&data_dir)?;
        let mut cluster = Self {
            data_dir,
            socket_dir,
            bin_dir,
            run_as,
            started_by_us: false,
        };
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.init().await?;
        }
        if !cluster.is_running().await {
            cluster.launch().await?;
            cluster.started_by_us = true;
        }
        Ok(cluster)
    }

    /// The directory the cluster's files are in: the one asked for, or its
    /// stand-in under `/var/lib/ordersearch` when the `postgres` user cannot
    /// reach that one.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Connection options for a database of this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(SYSTEM_USER)
            .database(database)
    }

    /// A `postgres://` URL for a database of this cluster (for tools and tests).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SYSTEM_USER}@localhost/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Whether this process started the server (and so should stop it).
    pub fn started_by_us(&self) -> bool {
        self.started_by_us
    }

    /// Stops the server with a fast shutdown.
    pub async fn stop(&self) -> anyhow::Result<()> {
        let data = self.data_dir.display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])
            .await
            .context("stopping the private PostgreSQL cluster")
    }

    async fn init(&self) -> anyhow::Result<()> {
        let data = self.data_dir.display().to_string();
        self.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                SYSTEM_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        )
        .await
        .context("initializing the private PostgreSQL cluster (initdb)")
    }

    async fn launch(&self) -> anyhow::Result<()> {
        let data = self.data_dir.display().to_string();
        let log = self.data_dir.join("server.log").display().to_string();
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c max_connections=200 \
             -c shared_buffers=256MB -c fsync=on",
            self.socket_dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
            ],
        )
        .await
        .with_context(|| format!("starting the private PostgreSQL cluster (log: {log})"))
    }

    async fn is_running(&self) -> bool {
        let data = self.data_dir.display().to_string();
        self.run("pg_ctl", &["-D", &data, "status"]).await.is_ok()
            && self.socket_dir.join(".s.PGSQL.5432").exists()
    }

    async fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let binary = self.bin_dir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", &user.name, "--"]).arg(&binary);
                command
            }
            None => Command::new(&binary),
        };
        let output = command
            .args(args)
            .current_dir(&self.data_dir)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", binary.display()))?;
        if !output.status.success() {
            bail!(
                "{program} exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}

/// Where a cluster lives when the `postgres` user cannot reach the directory
/// asked for (a checkout under root's own 0700 home, say).
const RELOCATED_ROOT: &str = "/var/lib/ordersearch";

fn give_to(dir: &Path, user: &nix::unistd::User) -> anyhow::Result<()> {
    std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .with_context(|| format!("giving {} to the postgres user", dir.display()))
}

/// Whether `user` can enter and write `dir` (every parent must let it through).
async fn reachable_by(user: &nix::unistd::User, dir: &Path) -> bool {
    let dir = dir.as_os_str();
    Command::new("runuser")
        .args(["-u", &user.name, "--", "test", "-w"])
        .arg(dir)
        .args(["-a", "-x"])
        .arg(dir)
        .stdin(Stdio::null())
        .status()
        .await
        .is_ok_and(|status| status.success())
}

/// The directory that stands for `data_dir` under [`RELOCATED_ROOT`] (the same
/// one at every start, named by a digest of `data_dir`), given to `user`.
fn relocate(data_dir: &Path, user: &nix::unistd::User) -> anyhow::Result<PathBuf> {
    let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let dir = Path::new(RELOCATED_ROOT).join(format!("pg-{}", hex_prefix(&digest)));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    give_to(&dir, user)?;
    tracing::warn!(
        asked = %data_dir.display(),
        cluster = %dir.display(),
        "the postgres user cannot enter the data directory; the private cluster lives here instead"
    );
    Ok(dir)
}

/// The socket lives in the data directory, or in /tmp when that path is too long.
fn socket_dir_for(data_dir: &Path) -> anyhow::Result<PathBuf> {
    if data_dir.as_os_str().len() + ".s.PGSQL.5432".len() < MAX_SOCKET_PATH {
        return Ok(data_dir.to_path_buf());
    }
    let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let dir = PathBuf::from(format!("/tmp/ordersearch-pg-{}", hex_prefix(&digest)));
    std::fs::create_dir_all(&dir)?;
    let data_meta = std::fs::metadata(data_dir)?;
    std::os::unix::fs::chown(
        &dir,
        Some(std::os::unix::fs::MetadataExt::uid(&data_meta)),
        Some(std::os::unix::fs::MetadataExt::gid(&data_meta)),
    )?;
    Ok(dir)
}

use sha2::Digest;

fn hex_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `initdb` on the PATH, else the newest `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if initdb.exists() && dir.join("pg_ctl").exists() {
                return initdb.canonicalize().ok()?.parent().map(Path::to_path_buf);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
