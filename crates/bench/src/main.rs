//! `billtrail-bench`: the benchmark harness. Run `cargo run --release -p billtrail-bench -- all`.
//!
//! **What it measures, and how.** `api` starts the real `billtrail serve` binary as a child
//! process on a fresh data dir and drives it from a Rust load generator on the same machine
//! (tokio + hyper, 64 keep-alive HTTP/1.1 connections; the generator competes for the same
//! CPUs, which is the test condition). Every request is a SigV4-signed `SetContactAddress`,
//! verified by the server and answered only after its CloudTrail record is durable (SQLite WAL,
//! `synchronous = FULL`, group commit). It reports: closed-loop maximum calls/s; the same
//! generator, signing and body against a bare axum handler answering `{}` (a second mode of this
//! binary, run as its own process behind the same accept loop), and the ratio of the two, the
//! two servers taking turns for `--rounds` rounds (each figure is the median over the rounds, the
//! ratio the median of each round's own ratio, and its lowest round is printed as well);
//! open-loop latency at a fixed 5,000 calls/s, measured with HdrHistogram from each request's
//! *scheduled* send time so that a stalled server cannot hide its queue (no coordinated
//! omission); the server's peak RSS (`VmHWM`) and CPU time per call. It then `kill -9`s the
//! server and counts the `SetContactAddress` rows in its database, which must equal the number of
//! 200s the generator saw. `lookup` builds (once, then cached under
//! `$BILLTRAIL_BENCH_CACHE` or `~/.cache/billtrail/bench`) a store of 10 million realistic
//! records through the store's own group-commit writer, reporting the build rate and database
//! size, then starts the real server on it and times signed `LookupEvents` calls one at a time
//! over HTTP, for each of the 8 lookup attribute keys, no attribute, a time window, and a second
//! page (`NextToken`), reporting p50/p99 per query kind. Each lookup is itself an audited call,
//! so its latency includes the fsync of its own record. `delivery` times the trail crate's log
//! file encoding (selection, JSON, gzip, SHA-256) on one thread, then runs the real server with a
//! 5 s delivery interval and a trail, sends signed calls at a steady rate, and measures from each
//! record's `eventTime` to its log file appearing in the bucket (see `delivery.rs`). `--quick`
//! runs everything small (2 s phases, 200,000 events, 10 s of delivery load) as a smoke test.
//! Every figure is printed in a table and as one JSON line; the run fails (exit 1) on any non-200
//! answer, a missing audit record or a record delivered twice or never, and marks any figure
//! that misses its floor.
//!
//! Signing: each request is signed with `billtrail_auth::sigv4::sign`. Within one second SigV4
//! maps an identical request to an identical signature, so the load generator memoizes the
//! signed headers per second (`--sign-every-request` turns that off); the bytes on the wire are
//! those of signing every request, and the server verifies every one in full.

mod api;
mod bare;
mod client;
mod delivery;
mod gen;
mod lookup;
mod report;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The same allocator as `billtrail` itself, so that the bare server (this binary's
/// `bare-server` mode) differs from it only in what it does per call.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "billtrail-bench",
    about = "Benchmarks of billtrail: audited write throughput and latency, LookupEvents latency, trail delivery"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Clone, Debug)]
pub struct Common {
    /// Run everything small (2 s phases, 200,000 events, 10 s of delivery load): a smoke test.
    #[arg(long, global = true)]
    pub quick: bool,
    /// The `billtrail` binary to benchmark. Default: the one next to this binary, rebuilt first
    /// with `cargo build --release -p billtrail` when run through cargo.
    #[arg(long, global = true)]
    pub bin: Option<PathBuf>,
    /// Do not rebuild the `billtrail` binary before running it.
    #[arg(long, global = true)]
    pub no_build: bool,
}

#[derive(Args, Clone, Debug)]
pub struct ApiArgs {
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds of each measured phase (default 10; 2 with --quick).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Rounds of the throughput comparison: each runs the bare axum handler, then billtrail,
    /// for `--duration` seconds each (default 3; 1 with --quick).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// Calls per second of the open-loop latency phase.
    #[arg(long, default_value_t = 5000)]
    pub rate: u64,
    /// Sign every request from scratch instead of memoizing the signed headers per second.
    #[arg(long)]
    pub sign_every_request: bool,
    /// Another `billtrail` binary (an experiment, an older build) measured in the same rounds,
    /// taking turns with the benchmarked one: its throughput next to theirs, paired round by
    /// round, says more than two runs minutes apart on a machine whose speed drifts.
    #[arg(long)]
    pub compare: Option<PathBuf>,
}

#[derive(Args, Clone, Debug)]
pub struct LookupArgs {
    /// Events in the store (default 10,000,000; 200,000 with --quick).
    #[arg(long)]
    pub events: Option<u64>,
    /// Timed requests per query kind (default 300; 60 with --quick).
    #[arg(long)]
    pub requests: Option<usize>,
    /// Rebuild the cached store even when a fresh one exists.
    #[arg(long)]
    pub rebuild: bool,
    /// Where built stores are cached.
    #[arg(long, env = "BILLTRAIL_BENCH_CACHE")]
    pub cache: Option<PathBuf>,
}

#[derive(Args, Clone, Debug)]
pub struct DeliveryArgs {
    /// Records encoded for the throughput figure (default 200,000; 50,000 with --quick).
    #[arg(long)]
    pub records: Option<u64>,
    /// SetContactAddress calls per second of the end-to-end phase.
    #[arg(long, default_value_t = 200)]
    pub call_rate: u64,
    /// Seconds of calls in the end-to-end phase (default 30; 10 with --quick).
    #[arg(long)]
    pub load_secs: Option<u64>,
    /// The server's trail delivery interval, in seconds (`[trail] delivery_interval`).
    #[arg(long, default_value_t = 5)]
    pub delivery_interval: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Audited SetContactAddress throughput and latency, next to a bare axum handler.
    Api(ApiArgs),
    /// LookupEvents latency per attribute key on a store of 10 million events.
    Lookup(LookupArgs),
    /// Trail delivery: log file encoding throughput, and event-to-object latency.
    Delivery(DeliveryArgs),
    /// `api`, then `lookup`, then `delivery`, with their default settings.
    All {
        #[command(flatten)]
        api: ApiArgs,
        #[command(flatten)]
        lookup: LookupArgs,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
    /// The bare axum server of `api` (run by `api` as a child process).
    #[command(hide = true)]
    BareServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
}

/// A benchmark that could not run, or whose answers were wrong.
pub type Error = String;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::BareServer { listen } = cli.command {
        return match bare::serve(listen) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bare-server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("billtrail-bench: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let result = runtime.block_on(run(cli));
    // Child-connection tasks may linger; do not wait for them.
    runtime.shutdown_timeout(Duration::from_secs(1));
    eprintln!(
        "billtrail-bench: finished in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("billtrail-bench: FAILED: see the errors above");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("billtrail-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen benchmarks; `Ok(false)` when an answer was wrong (a non-200, a lost record).
async fn run(cli: Cli) -> Result<bool, Error> {
    report::print_header(&cli.common);
    let pinned = server::binary(&cli.common)?;
    let bin = pinned.path.as_path();
    match cli.command {
        Command::Api(args) => section(api::run(bin, &cli.common, &args).await),
        Command::Lookup(args) => section(lookup::run(bin, &cli.common, &args).await),
        Command::Delivery(args) => section(delivery::run(bin, &cli.common, &args).await),
        Command::All {
            api,
            lookup,
            delivery,
        } => {
            let a = section(api::run(bin, &cli.common, &api).await)?;
            let l = section(lookup::run(bin, &cli.common, &lookup).await)?;
            let d = section(delivery::run(bin, &cli.common, &delivery).await)?;
            Ok(a && l && d)
        }
        Command::BareServer { .. } => Ok(true),
    }
}

fn section(r: Result<report::Section, Error>) -> Result<bool, Error> {
    let s = r?;
    s.print();
    Ok(s.correct())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// `all` flattens every benchmark's arguments: their names must not collide.
    #[test]
    fn arguments_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
