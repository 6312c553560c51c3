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

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use billtrail_auth::credentials::{AccessKeyRecord, ACCESS_KEY_KIND};
use billtrail_operations::Env;
use billtrail_store::Store;
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
    let mut env = Env::new(store, keys.token_key, keys.vault);
    env.retention_seconds = i64::try_from(config.retention.as_secs()).unwrap_or(i64::MAX);
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
        metrics: Metrics::new(),
        max_body_bytes: config.max_body_bytes,
    });
    let serve = tokio::spawn(listener::serve(listener, app(state), tls));
    let workers = vec![
        tokio::spawn(retention_worker(env.clone(), config.retention)),
        tokio::spawn(organizations_worker(env.clone())),
    ];
    Ok(Running {
        addr,
        env,
        created,
        installation,
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

/// Hourly housekeeping: deletes events older than the retention period, and temporary
/// credentials a day after they expired (authentication refuses them from the moment they do).
async fn retention_worker(env: Arc<Env>, retention: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let cutoff = now - retention.as_secs() as i64;
        match env.store.transact(move |t| t.prune_before(cutoff)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned events past retention"),
            Err(e) => tracing::error!(error = %e, "retention pruning failed"),
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
