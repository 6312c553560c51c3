//! The composition root: configuration, first-start bootstrap, the router, the listener and the
//! background workers, wired together into one process.
//!
//! This is the only crate that sees every other one. It owns the HTTP surface ([`app`]) and
//! authentication ([`authn`]); the rest it delegates: decoding to `billtrail-protocol`, what calls
//! do to `billtrail-operations`, records to `billtrail-audit`, persistence to `billtrail-store`.

pub mod app;
pub mod authn;
pub mod bootstrap;
pub mod config;
mod listener;
mod metrics;
pub mod s3;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use billtrail_auth::credentials::{AccessKeyRecord, ACCESS_KEY_KIND};
use billtrail_objects::{Buckets, ObjectStore};
use billtrail_operations::Env;
use billtrail_store::Store;
use billtrail_trail::DeliveryOptions;
use tokio::net::TcpListener;

pub use app::{app, AppState, ConnInfo};
pub use config::{Config, RawConfig};
pub use metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] billtrail_store::StoreError),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Corrupt(String),
}

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    pub env: Arc<Env>,
    /// Present on the first start only.
    pub created: Option<bootstrap::Created>,
    pub installation: bootstrap::Installation,
    /// Every trail bucket (`DATA_DIR/buckets/*` and the configured S3 ones), as the S3 API
    /// serves them and delivery writes them.
    pub objects: Arc<Buckets>,
    serve: tokio::task::JoinHandle<()>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Serves until the listener stops (it does not, short of a panic).
    pub async fn wait(self) {
        let _ = self.serve.await;
    }

    /// Stops accepting and stops the workers. Every answered call is already durable.
    pub fn stop(self) {
        self.serve.abort();
        for w in self.workers {
            w.abort();
        }
    }
}

/// Opens the store, bootstraps on the first start, binds the listener and starts the workers.
pub async fn start(config: Config) -> Result<Running, ServerError> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| ServerError::Io(data_dir.display().to_string(), e))?;
    let store = Store::open_sqlite(&data_dir.join("store"))?;
    let keys = bootstrap::load_keys(data_dir)?;
    let root_password = std::env::var("BILLTRAIL_ROOT_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let (installation, created) =
        bootstrap::bootstrap(&store, &keys, data_dir, root_password).await?;
    // Trail buckets: folders under DATA_DIR/buckets (the embedded default), and the buckets
    // configured on S3-compatible endpoints ([buckets.<name>]).
    let buckets = Arc::new(
        Buckets::new(data_dir.join("buckets"), config.buckets.clone())
            .map_err(|e| ServerError::Corrupt(format!("buckets: {e}")))?,
    );
    let objects: Arc<dyn ObjectStore> = buckets.clone();
    let mut env = Env::new(store, keys.token_key, keys.vault);
    env.retention_seconds = i64::try_from(config.retention.as_secs()).unwrap_or(i64::MAX);
    env.objects = Some(objects.clone());
    let env = Arc::new(env);
    let tls = config
        .tls
        .as_ref()
        .map(listener::tls_acceptor)
        .transpose()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServerError::Io(format!("listening on {}", config.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Io("local address".into(), e))?;
    let public_url = if addr.port() != config.listen.port() {
        // An ephemeral port (":0") is only known now.
        config.public_url.replace(
            &format!(":{}", config.listen.port()),
            &format!(":{}", addr.port()),
        )
    } else {
        config.public_url.clone()
    };
    bootstrap::write_cli_files(
        data_dir,
        &public_url,
        config.tls.as_ref().map(|t| t.cert.as_path()),
    )?;
    let state = Arc::new(AppState {
        env: env.clone(),
        metrics: Metrics::new(env.store.clone()),
        max_body_bytes: config.max_body_bytes,
        objects: buckets.clone(),
        management_account_id: installation.management_account_id.clone(),
        keys: Default::default(),
    });
    let serve = tokio::spawn(listener::serve(listener, app(state), tls));
    let workers = vec![
        tokio::spawn(retention_worker(env.clone(), config.retention)),
        tokio::spawn(organizations_worker(env.clone())),
        tokio::spawn(delivery_worker(
            env.clone(),
            objects.clone(),
            DeliveryOptions {
                max_file_bytes: config.max_file_bytes,
                notify: config.notifications.clone(),
                ..DeliveryOptions::default()
            },
            config.delivery_interval,
        )),
        tokio::spawn(digest_worker(
            env.clone(),
            objects.clone(),
            config.digest_interval,
        )),
    ];
    Ok(Running {
        addr,
        env,
        created,
        installation,
        objects: buckets,
        serve,
        workers,
    })
}

/// Finishes pending `CreateAccount` requests as soon as they commit (and every second, in case a
/// signal was missed or a previous attempt failed).
async fn organizations_worker(env: Arc<Env>) {
    loop {
        let committed = env.committed.notified();
        if let Err(e) = billtrail_operations::organizations::complete_pending(&env.store).await {
            tracing::error!(error = %e, "finishing CreateAccount failed");
        }
        tokio::select! {
            _ = committed => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Delivers trail log files every `interval` (at once on start, to catch up after a stop or a
/// crash; without a pause while a backlog remains). When the object store fails, it retries
/// with exponential backoff, from 1 s up to the longer of `interval` and 5 minutes.
async fn delivery_worker(
    env: Arc<Env>,
    objects: Arc<dyn ObjectStore>,
    opts: DeliveryOptions,
    interval: Duration,
) {
    let cap = interval.max(Duration::from_secs(300));
    let mut backoff = Duration::ZERO;
    loop {
        let now = time::OffsetDateTime::now_utc();
        let wait = match billtrail_trail::deliver_once(&env.store, objects.as_ref(), &opts, now)
            .await
        {
            Ok(r) if r.failures.is_empty() => {
                backoff = Duration::ZERO;
                if r.files > 0 {
                    tracing::debug!(files = r.files, records = r.records, "delivered log files");
                }
                if r.backlog {
                    Duration::ZERO
                } else {
                    interval
                }
            }
            Ok(r) => {
                backoff = (backoff * 2).clamp(Duration::from_secs(1), cap);
                for f in &r.failures {
                    tracing::warn!(trail = %f.trail_arn, error = %f.error, retry_in = ?backoff, "log file delivery failed");
                }
                backoff
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_secs(1), cap);
                tracing::error!(error = %e, retry_in = ?backoff, "log file delivery failed");
                backoff
            }
        };
        if wait.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Writes trail digest files as they fall due (`[trail] digest_interval`, hourly by default).
/// It looks often (a sixth of the interval, between 1 s and 1 min) so that chains start soon
/// after validation is turned on and final digests follow `StopLogging` promptly;
/// `digest_once` decides what is due. Failures are recorded per trail
/// (`LatestDigestDeliveryError`) and retried with backoff up to 5 minutes.
async fn digest_worker(env: Arc<Env>, objects: Arc<dyn ObjectStore>, interval: Duration) {
    let opts = billtrail_digest::DigestOptions {
        interval: i64::try_from(interval.as_secs()).unwrap_or(i64::MAX).max(1),
        ..billtrail_digest::DigestOptions::default()
    };
    let tick = (interval / 6).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let cap = Duration::from_secs(300);
    let mut backoff = Duration::ZERO;
    loop {
        let now = time::OffsetDateTime::now_utc();
        let wait = match billtrail_digest::digest_once(
            &env.store,
            objects.as_ref(),
            &env.vault,
            &opts,
            now,
        )
        .await
        {
            Ok(r) if r.failures.is_empty() => {
                backoff = Duration::ZERO;
                if r.digests > 0 {
                    tracing::debug!(
                        digests = r.digests,
                        log_files = r.log_files,
                        "delivered digest files"
                    );
                }
                tick
            }
            Ok(r) => {
                backoff = (backoff * 2).clamp(tick, cap);
                for (trail, error) in &r.failures {
                    tracing::warn!(trail = %trail, error = %error, retry_in = ?backoff, "digest delivery failed");
                }
                backoff
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(tick, cap);
                tracing::error!(error = %e, retry_in = ?backoff, "digest delivery failed");
                backoff
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Hourly housekeeping: deletes events older than the retention period, and temporary
/// credentials a day after they expired (authentication refuses them from the moment they do).
async fn retention_worker(env: Arc<Env>, retention: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let cutoff = now - retention.as_secs() as i64;
        // In chunks, each its own transaction, so that calls are never held up for long.
        let mut pruned = 0u64;
        loop {
            match env.store.transact(move |t| t.prune_before(cutoff)).await {
                Ok(0) => break,
                Ok(n) => pruned += n,
                Err(e) => {
                    tracing::error!(error = %e, "retention pruning failed");
                    break;
                }
            }
        }
        if pruned > 0 {
            tracing::info!(deleted = pruned, "pruned events past retention");
        }
        let swept = env.store.transact(move |t| {
            let keys = t.scan::<AccessKeyRecord>("", ACCESS_KEY_KIND)?;
            let mut n = 0u64;
            for (id, k) in keys {
                if k.session.is_some_and(|s| s.expires + 86_400 < now) {
                    t.delete(&billtrail_store::Key::global(ACCESS_KEY_KIND, &id))?;
                    n += 1;
                }
            }
            Ok(n)
        });
        match swept.await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "deleted expired temporary credentials"),
            Err(e) => tracing::error!(error = %e, "sweeping temporary credentials failed"),
        }
    }
}
