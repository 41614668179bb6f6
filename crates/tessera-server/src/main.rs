use clap::Parser;
use tessera_server::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn init_logs(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("TESSERA_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => run_server(cli.serve).await,
        Some(Command::Serve(args)) => run_server(args).await,
        Some(Command::Backup { db, file }) => {
            tessera_server::backup::backup(&db.database_url, &file).await
        }
        Some(Command::Restore { db, file }) => {
            tessera_server::backup::restore(&db.database_url, &file).await
        }
        Some(Command::User { db, command }) => {
            let store = tessera_server::server::open_store(&db.database_url).await?;
            tessera_server::cli::run(&store, command).await
        }
    }
}

async fn run_server(args: tessera_server::config::ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_format);
    tessera_server::server::serve(args).await
}
