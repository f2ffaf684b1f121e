//! Seed data.

#[derive(Debug, clap::Args)]
pub struct SeedArgs {}

pub async fn run(_args: SeedArgs) -> anyhow::Result<()> {
    Ok(())
}
