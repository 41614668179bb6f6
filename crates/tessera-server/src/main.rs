use clap::Parser;
use tessera_server::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

fn init_logs(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// glibc raises its mmap threshold after the first large block is freed, after which
/// argon2's 19 MiB blocks come from per-thread heaps that keep them: RSS climbed past 300 MiB
/// after a few dozen sign-ins. A fixed threshold keeps large blocks mmapped, so freeing
/// them returns the memory.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}

/// Errors end the process with one line (`error: what: why`), never a backtrace.
fn main() -> std::process::ExitCode {
    return_large_blocks_to_the_os();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run()));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<tessera_server::store::schema::NewerSchema>() {
                Some(_) => std::process::ExitCode::from(
                    tessera_server::store::schema::NewerSchema::EXIT_CODE,
                ),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => run_server(cli.serve).await,
        Some(Command::Serve(args)) => run_server(*args).await,
        Some(Command::Backup { db, file }) => {
            tessera_server::store::backup(&db.database_url, &file).await
        }
        Some(Command::Restore { db, file }) => {
            tessera_server::store::restore(&db.database_url, &file).await
        }
        Some(Command::MigrateDb { from, to }) => tessera_server::migrate::migrate(&from, &to).await,
        Some(Command::User { db, command }) => {
            let store = tessera_server::store::open(&db.database_url).await?;
            let service = tessera_server::service::Service::new(store, None);
            tessera_server::cli::run(&service, command).await
        }
    }
}

async fn run_server(args: tessera_server::config::ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_format, &args.log);
    tessera_server::server::serve(args).await
}
