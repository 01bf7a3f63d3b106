pub async fn run(_args: crate::config::SeedArgs) -> anyhow::Result<()> {
    Ok(())
}
