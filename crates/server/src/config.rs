//! Configuration: a TOML file, then `BILLTRAIL_<SECTION>_<KEY>` environment overrides, then
//! validation into the typed [`Config`].
//!
//! Every key, with its default:
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:4590"       # also --listen / BILLTRAIL_LISTEN
//! tls_cert = ""                   # PEM certificate chain; with tls_key, serve HTTPS
//! tls_key = ""                    # PEM private key
//! max_body_bytes = 1048576        # larger request bodies get 413
//! public_url = ""                 # the endpoint written into the AWS CLI profile; default: from listen
//! worker_threads = 0              # threads serving requests; 0: one per CPU but one (at least 1)
//!
//! [events]
//! retention = "90d"               # event history keeps events this long
//!
//! [trail]
//! delivery_interval = "60s"       # how often log files are delivered (AWS: about 5 minutes)
//! digest_interval = "1h"          # how often digest files are delivered (AWS: hourly)
//! max_file_bytes = 52428800       # the most bytes of JSON (uncompressed) in one log file
//!
//! [notifications]                 # delivery notifications: SNS topic -> webhook URL
//! # my-topic = "https://example.com/cloudtrail-hook"   # by topic name (or full topic ARN)
//!
//! [buckets.my-trail-bucket]       # a trail bucket on an S3-compatible endpoint (default: a
//! endpoint = "http://127.0.0.1:9000"  # folder under DATA_DIR/buckets); see billtrail_objects
//! region = "us-east-1"
//! access_key_id = "AKIA..."
//! secret_access_key = "..."       # better: BILLTRAIL_BUCKETS_MY_TRAIL_BUCKET_SECRET_ACCESS_KEY
//! path_style = true
//! ```
//!
//! Durations are human-readable (`5s`, `90s`, `1h`, `90d`). `[notifications]` has no fixed keys,
//! so it is set in the file only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config: {0}")]
    Parse(String),
    #[error("config: {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// The file's shape, before validation. Every field has a default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub server: RawServer,
    pub events: RawEvents,
    pub trail: RawTrail,
    /// SNS topic (name or ARN) → webhook URL.
    pub notifications: BTreeMap<String, String>,
    /// Trail buckets on S3-compatible endpoints, by bucket name. Each key can also come from
    /// `BILLTRAIL_BUCKETS_<NAME>_<KEY>` (name upper-cased, `-` and `.` as `_`) for a bucket
    /// named here.
    pub buckets: BTreeMap<String, billtrail_objects::BucketConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawServer {
    pub listen: String,
    pub tls_cert: String,
    pub tls_key: String,
    pub max_body_bytes: u64,
    pub public_url: String,
    pub worker_threads: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawEvents {
    pub retention: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTrail {
    pub delivery_interval: String,
    pub digest_interval: String,
    pub max_file_bytes: u64,
}

impl Default for RawTrail {
    fn default() -> Self {
        RawTrail {
            delivery_interval: "60s".into(),
            digest_interval: "1h".into(),
            max_file_bytes: 50 * 1024 * 1024,
        }
    }
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: "127.0.0.1:4590".into(),
            tls_cert: String::new(),
            tls_key: String::new(),
            max_body_bytes: 1024 * 1024,
            public_url: String::new(),
            worker_threads: 0,
        }
    }
}

impl Default for RawEvents {
    fn default() -> Self {
        RawEvents {
            retention: "90d".into(),
        }
    }
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    pub max_body_bytes: usize,
    /// The URL clients use to reach the server.
    pub public_url: String,
    /// Threads of the runtime that serves requests (`[server] worker_threads`, resolved).
    pub worker_threads: usize,
    pub retention: Duration,
    /// How often the delivery worker runs (`[trail] delivery_interval`).
    pub delivery_interval: Duration,
    /// How often the digest worker runs (`[trail] digest_interval`).
    pub digest_interval: Duration,
    /// The most bytes of JSON in one log file (`[trail] max_file_bytes`).
    pub max_file_bytes: usize,
    /// SNS topic (name or ARN) → webhook URL (`[notifications]`).
    pub notifications: BTreeMap<String, String>,
    /// Trail buckets on S3-compatible endpoints (`[buckets.<name>]`), checked.
    pub buckets: BTreeMap<String, billtrail_objects::BucketConfig>,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl RawConfig {
    /// Reads `path` (if any), then applies environment overrides from `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut doc: toml::Table = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError::Read(p.to_path_buf(), e))?;
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?
            }
            None => toml::Table::new(),
        };
        let env: Vec<(String, String)> = env.collect();
        apply_env(&mut doc, env.iter().cloned())?;
        let mut raw: RawConfig = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        for (name, bucket) in raw.buckets.iter_mut() {
            *bucket = bucket
                .clone()
                .with_env(name, env.iter().cloned())
                .map_err(|e| ConfigError::Invalid {
                    key: "buckets",
                    message: e.to_string(),
                })?;
        }
        Ok(raw)
    }

    pub fn validate(self, data_dir: PathBuf) -> Result<Config, ConfigError> {
        let s = self.server;
        let listen: SocketAddr = s.listen.parse().map_err(|e| ConfigError::Invalid {
            key: "server.listen",
            message: format!("{:?}: {e}", s.listen),
        })?;
        let tls = match (s.tls_cert.is_empty(), s.tls_key.is_empty()) {
            (true, true) => None,
            (false, false) => Some(TlsFiles {
                cert: s.tls_cert.into(),
                key: s.tls_key.into(),
            }),
            _ => {
                return Err(ConfigError::Invalid {
                    key: "server.tls_cert",
                    message: "tls_cert and tls_key go together".into(),
                })
            }
        };
        let max_body_bytes = usize::try_from(s.max_body_bytes)
            .ok()
            .filter(|n| *n >= 1024)
            .ok_or_else(|| ConfigError::Invalid {
                key: "server.max_body_bytes",
                message: "must be at least 1024".into(),
            })?;
        let public_url = if s.public_url.is_empty() {
            let scheme = if tls.is_some() { "https" } else { "http" };
            let host = if listen.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else if listen.is_ipv6() {
                format!("[{}]", listen.ip())
            } else {
                listen.ip().to_string()
            };
            format!("{scheme}://{host}:{}", listen.port())
        } else {
            s.public_url.trim_end_matches('/').to_string()
        };
        let worker_threads = match s.worker_threads {
            0 => default_worker_threads(),
            n => usize::try_from(n)
                .ok()
                .filter(|n| *n <= 1024)
                .ok_or_else(|| ConfigError::Invalid {
                    key: "server.worker_threads",
                    message: "must be at most 1024".into(),
                })?,
        };
        let retention = humantime::parse_duration(&self.events.retention).map_err(|e| {
            ConfigError::Invalid {
                key: "events.retention",
                message: e.to_string(),
            }
        })?;
        let interval = |key: &'static str, text: &str| {
            humantime::parse_duration(text)
                .map_err(|e| e.to_string())
                .and_then(|d| {
                    if d.is_zero() {
                        Err("must be longer than zero".to_string())
                    } else {
                        Ok(d)
                    }
                })
                .map_err(|message| ConfigError::Invalid {
                    key,
                    message: format!("{text:?}: {message}"),
                })
        };
        let delivery_interval = interval("trail.delivery_interval", &self.trail.delivery_interval)?;
        let digest_interval = interval("trail.digest_interval", &self.trail.digest_interval)?;
        let max_file_bytes = usize::try_from(self.trail.max_file_bytes)
            .ok()
            .filter(|n| *n >= 1024)
            .ok_or_else(|| ConfigError::Invalid {
                key: "trail.max_file_bytes",
                message: "must be at least 1024".into(),
            })?;
        for (name, bucket) in &self.buckets {
            billtrail_objects::validate_bucket_name(name)
                .and_then(|()| bucket.validate(name))
                .map_err(|e| ConfigError::Invalid {
                    key: "buckets",
                    message: e.to_string(),
                })?;
        }
        for (topic, url) in &self.notifications {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    key: "notifications",
                    message: format!("{topic}: {url:?} is not an http:// or https:// URL"),
                });
            }
        }
        Ok(Config {
            data_dir,
            listen,
            tls,
            max_body_bytes,
            public_url,
            worker_threads,
            retention,
            delivery_interval,
            digest_interval,
            max_file_bytes,
            notifications: self.notifications,
            buckets: self.buckets,
        })
    }
}

/// Request threads when the configuration leaves it to us: one per CPU but one, and at least one.
///
/// The store's writer is a thread of its own, and under a stream of writes it is busy for most
/// of every commit: every write of every call goes through it. A runtime with one thread per
/// CPU as well left the two to compete on every core. On the 2-CPU benchmark machine, one request
/// thread served about 3 % more audited calls per second than two (`billtrail-bench api
/// --compare`, paired rounds), and varied less from round to round.
fn default_worker_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1)
}

/// Sets `section.key` from `BILLTRAIL_<SECTION>_<KEY>` for every key the defaults know. The value
/// is read as TOML when it parses as the key's type (numbers, booleans), else as a string.
fn apply_env(
    doc: &mut toml::Table,
    env: impl Iterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let defaults = toml::Value::try_from(RawConfig::default())
        .map_err(|e| ConfigError::Parse(e.to_string()))?;
    let toml::Value::Table(sections) = defaults else {
        return Ok(());
    };
    let env: Vec<(String, String)> = env.collect();
    for (section, keys) in sections {
        let toml::Value::Table(keys) = keys else {
            continue;
        };
        for (key, default) in keys {
            let name = format!(
                "BILLTRAIL_{}_{}",
                section.to_uppercase(),
                key.to_uppercase()
            );
            let Some((_, raw)) = env.iter().find(|(k, _)| *k == name) else {
                continue;
            };
            let value =
                match default {
                    toml::Value::Integer(_) => raw
                        .parse::<i64>()
                        .map(toml::Value::Integer)
                        .map_err(|e| ConfigError::Invalid {
                            key: "environment",
                            message: format!("{name}: {e}"),
                        })?,
                    toml::Value::Boolean(_) => raw
                        .parse::<bool>()
                        .map(toml::Value::Boolean)
                        .map_err(|e| ConfigError::Invalid {
                            key: "environment",
                            message: format!("{name}: {e}"),
                        })?,
                    _ => toml::Value::String(raw.clone()),
                };
            let table = doc
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = table {
                t.insert(key.clone(), value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_threads_is_set_or_bounded() {
        let load = |v: &str| {
            RawConfig::load(
                None,
                [("BILLTRAIL_SERVER_WORKER_THREADS".to_string(), v.to_string())].into_iter(),
            )
            .and_then(|raw| raw.validate("d".into()))
        };
        assert_eq!(load("3").expect("valid").worker_threads, 3);
        let err = load("100000").expect_err("too many").to_string();
        assert!(err.contains("server.worker_threads"), "{err}");
        assert!(load("-1").is_err());
    }

    #[test]
    fn defaults_validate() {
        let c = RawConfig::load(None, std::iter::empty())
            .expect("load")
            .validate("d".into())
            .expect("valid");
        assert_eq!(c.listen.to_string(), "127.0.0.1:4590");
        assert_eq!(c.public_url, "http://127.0.0.1:4590");
        assert_eq!(c.retention, Duration::from_secs(90 * 86400));
        assert!(c.tls.is_none());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(c.worker_threads, cpus.saturating_sub(1).max(1));
        assert_eq!(c.delivery_interval, Duration::from_secs(60));
        assert_eq!(c.digest_interval, Duration::from_secs(3600));
        assert_eq!(c.max_file_bytes, 50 * 1024 * 1024);
        assert!(c.notifications.is_empty());
    }

    #[test]
    fn trail_settings_from_file_and_environment() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[trail]\ndelivery_interval = \"10s\"\n\n[notifications]\nmy-topic = \"http://127.0.0.1:9/hook\"\n",
        )
        .expect("write");
        let env = vec![
            (
                "BILLTRAIL_TRAIL_DELIVERY_INTERVAL".to_string(),
                "5s".to_string(),
            ),
            (
                "BILLTRAIL_TRAIL_DIGEST_INTERVAL".to_string(),
                "20s".to_string(),
            ),
            (
                "BILLTRAIL_TRAIL_MAX_FILE_BYTES".to_string(),
                "4096".to_string(),
            ),
        ];
        let c = RawConfig::load(Some(&p), env.into_iter())
            .expect("load")
            .validate("d".into())
            .expect("valid");
        assert_eq!(c.delivery_interval, Duration::from_secs(5));
        assert_eq!(c.digest_interval, Duration::from_secs(20));
        assert_eq!(c.max_file_bytes, 4096);
        assert_eq!(
            c.notifications.get("my-topic").map(String::as_str),
            Some("http://127.0.0.1:9/hook")
        );
        for (key, value) in [
            ("BILLTRAIL_TRAIL_DELIVERY_INTERVAL", "soon"),
            ("BILLTRAIL_TRAIL_DELIVERY_INTERVAL", "0s"),
            ("BILLTRAIL_TRAIL_MAX_FILE_BYTES", "10"),
        ] {
            let env = vec![(key.to_string(), value.to_string())];
            let refused =
                RawConfig::load(None, env.into_iter()).and_then(|r| r.validate("d".into()));
            assert!(refused.is_err(), "{key}={value}");
        }
        std::fs::write(&p, "[notifications]\nt = \"ftp://x\"\n").expect("write");
        assert!(RawConfig::load(Some(&p), std::iter::empty())
            .and_then(|r| r.validate("d".into()))
            .is_err());
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[server]\nlisten = \"127.0.0.1:1\"\nmax_body_bytes = 4096\n",
        )
        .expect("write");
        let env = vec![
            (
                "BILLTRAIL_SERVER_LISTEN".to_string(),
                "0.0.0.0:9000".to_string(),
            ),
            (
                "BILLTRAIL_SERVER_MAX_BODY_BYTES".to_string(),
                "2048".to_string(),
            ),
        ];
        let c = RawConfig::load(Some(&p), env.into_iter())
            .expect("load")
            .validate("d".into())
            .expect("valid");
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.max_body_bytes, 2048);
        assert_eq!(c.public_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn s3_buckets_from_file_with_the_secret_from_the_environment() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[buckets.trail-bucket]\nendpoint = \"http://127.0.0.1:9000\"\naccess_key_id = \"AKIA\"\npath_style = true\n",
        )
        .expect("write");
        let raw = RawConfig::load(Some(&p), std::iter::empty()).expect("load");
        assert!(raw.clone().validate("d".into()).is_err(), "no secret");
        let env = vec![(
            "BILLTRAIL_BUCKETS_TRAIL_BUCKET_SECRET_ACCESS_KEY".to_string(),
            "s3cr3t".to_string(),
        )];
        let c = RawConfig::load(Some(&p), env.into_iter())
            .expect("load")
            .validate("d".into())
            .expect("valid");
        let b = &c.buckets["trail-bucket"];
        assert_eq!(b.secret_access_key.expose(), "s3cr3t");
        assert_eq!(b.region, "us-east-1");
        assert!(b.path_style);
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "Debug redacts the secret"
        );
        std::fs::write(&p, "[buckets.Bad_Name]\n").expect("write");
        let e = RawConfig::load(Some(&p), std::iter::empty())
            .expect("load")
            .validate("d".into())
            .expect_err("bad bucket name");
        assert!(e.to_string().contains("Bad_Name"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let env = vec![(
            "BILLTRAIL_SERVER_MAX_BODY_BYTES".to_string(),
            "lots".to_string(),
        )];
        let e = RawConfig::load(None, env.into_iter()).expect_err("refused");
        assert!(e.to_string().contains("BILLTRAIL_SERVER_MAX_BODY_BYTES"));
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[server]\nlisen = \"x\"\n").expect("write");
        assert!(
            RawConfig::load(Some(&p), std::iter::empty()).is_err(),
            "unknown keys are refused"
        );
    }
}
