//! `billtrail`: the one binary. `serve` runs the server; the other commands are its tools.

mod buckets;
mod events;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Every call allocates many small, short-lived values (headers, JSON, the record) on one thread
/// and frees some on another (the store writer); mimalloc's per-thread free lists serve that
/// pattern at a fraction of glibc malloc's cost, measured in `billtrail-bench api`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "billtrail",
    version,
    about = "AWS Billing and Cost Management, audited by CloudTrail, on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct DataDir {
    /// Where state, events and keys live.
    #[arg(long, env = "BILLTRAIL_DATA_DIR", default_value = "./billtrail-data")]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: the APIs, event history and the background workers.
    Serve {
        #[command(flatten)]
        data: DataDir,
        /// Address to listen on.
        #[arg(long, env = "BILLTRAIL_LISTEN")]
        listen: Option<String>,
        /// TOML configuration file; every key can also be set as BILLTRAIL_<SECTION>_<KEY>.
        #[arg(long, env = "BILLTRAIL_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print `export` lines that point the AWS CLI at this server: eval "$(billtrail env)".
    Env {
        #[command(flatten)]
        data: DataDir,
    },
    /// Event history: look up and download events.
    Events {
        #[command(subcommand)]
        command: events::EventsCommand,
    },
    /// Local trail buckets (folders under DATA_DIR/buckets): create and list them.
    Buckets {
        #[command(subcommand)]
        command: buckets::BucketsCommand,
    },
    /// Validate a trail's log files and digests, as `aws cloudtrail validate-logs` does, and more.
    Validate(validate::ValidateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            data,
            listen,
            config,
        } => serve(data.data_dir, listen, config),
        Command::Env { data } => billtrail_server::bootstrap::env_exports(&data.data_dir)
            .map(|text| emit(&text))
            .map_err(|e| e.to_string()),
        Command::Events { command } => events::run(command),
        Command::Buckets { command } => buckets::run(command),
        Command::Validate(args) => match validate::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("billtrail: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writes to standard output; a reader that went away (`| head`) is not an error.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => eprintln!("billtrail: stdout: {e}"),
        _ => {}
    }
}

fn serve(data_dir: PathBuf, listen: Option<String>, config: Option<PathBuf>) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BILLTRAIL_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let mut raw = billtrail_server::RawConfig::load(config.as_deref(), std::env::vars())
        .map_err(|e| e.to_string())?;
    if let Some(l) = listen {
        raw.server.listen = l;
    }
    let config = raw.validate(data_dir).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let data_dir = config.data_dir.clone();
        let running = billtrail_server::start(config)
            .await
            .map_err(|e| e.to_string())?;
        announce(&running, &data_dir);
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
            _ = terminate() => tracing::info!("stopping"),
        }
        running.stop();
        Ok(())
    })
}

async fn terminate() {
    #[cfg(unix)]
    {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

/// Tells the user where the server is and how to use it. The root console password is shown
/// once, on the first start, and only to a terminal: never to a log.
fn announce(running: &billtrail_server::Running, data_dir: &std::path::Path) {
    tracing::info!(addr = %running.addr, account = %running.installation.management_account_id, "billtrail is listening");
    let me = std::env::args()
        .next()
        .unwrap_or_else(|| "billtrail".into());
    println!("billtrail is listening on {}", running.addr);
    println!(
        "management account: {}",
        running.installation.management_account_id
    );
    if let Some(created) = &running.created {
        println!(
            "created the root user {} with access key {}",
            created.installation.root_email, created.access_key_id
        );
        if std::io::stdout().is_terminal() {
            println!(
                "root console password (shown once): {}",
                created.root_password
            );
        }
    }
    println!("use it with the AWS CLI:\n  eval \"$({me} env --data-dir {})\"\n  aws billingconsole get-addresses", data_dir.display());
}
