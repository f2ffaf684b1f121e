//! `ordersearch rollups …`: maintenance of the analytics rollups; and
//! `ordersearch analytics`: the projector alone.

use std::time::Duration;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::db::{Database, DatabaseConfig};

/// Arguments of `ordersearch rollups`.
#[derive(Debug, clap::Args)]
pub struct RollupsArgs {
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(subcommand)]
    pub action: RollupsAction,
}

#[derive(Debug, Subcommand)]
pub enum RollupsAction {
    /// Recompute every rollup from the order rows (analytics reads and order
    /// writes wait until it commits).
    Rebuild,
}

/// Runs a `rollups` command.
pub async fn run(args: RollupsArgs) -> anyhow::Result<()> {
    let db = Database::open(&args.db).await?;
    let result = run_on(&db, args.action).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn run_on(db: &Database, action: RollupsAction) -> anyhow::Result<()> {
    db.migrate().await?;
    match action {
        RollupsAction::Rebuild => {
            let progress = ProgressBar::new(0).with_style(ProgressStyle::with_template(
                "{spinner} [{elapsed}] {bar:30} {pos}/{len} {msg}",
            )?);
            progress.enable_steady_tick(Duration::from_millis(200));
            let report = super::rebuild(&db.pool, &progress).await?;
            println!(
                "rebuilt the rollups of {} selling orders in {:.1?}",
                report.sales_orders, report.elapsed
            );
            for (table, rows) in &report.rows {
                println!("  {table}: {rows} rows");
            }
        }
    }
    Ok(())
}

/// Runs the analytics projector until Ctrl-C or SIGTERM (one per deployment;
/// others stand by).
pub async fn project(config: &DatabaseConfig) -> anyhow::Result<()> {
    let db = Database::open(config).await?;
    let result = async {
        db.migrate().await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let projector = tokio::spawn(super::projector::run(db.pool.clone(), stopped));
        crate::startup::shutdown_signal().await;
        let _ = stop.send(true);
        projector.await?;
        anyhow::Ok(())
    }
    .await;
    let closed = db.close().await;
    result.and(closed)
}
