//! The processes under test: the real `billtrail serve` binary and the bare axum server, each a
//! child process that is killed (by its own pid) when its guard drops.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use billtrail_auth::SecretKey;

use crate::client::{Conn, Credentials, Endpoint};
use crate::{Common, Error};

/// How long a server may take to start answering `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The `billtrail` binary under test, copied aside so that a concurrent `cargo build` in the
/// same target directory cannot swap it in the middle of a run.
pub struct Binary {
    pub path: PathBuf,
    _pin: tempfile::TempDir,
}

/// The `billtrail` binary to run: `--bin`, or the one next to this binary (rebuilt first when
/// this binary was started by cargo, so that the figures are those of the current sources).
pub fn binary(common: &Common) -> Result<Binary, Error> {
    let source = match &common.bin {
        Some(bin) if bin.is_file() => bin.clone(),
        Some(bin) => return Err(format!("--bin {}: no such file", bin.display())),
        None => built_binary(common)?,
    };
    let pin = tempfile::Builder::new()
        .prefix("billtrail-bench-bin-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let path = pin.path().join("billtrail");
    fs::copy(&source, &path).map_err(|e| format!("copying {}: {e}", source.display()))?;
    eprintln!("benchmarking {} (pinned copy)", source.display());
    Ok(Binary { path, _pin: pin })
}

fn built_binary(common: &Common) -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|e| format!("locating this binary: {e}"))?;
    let bin = exe.with_file_name("billtrail");
    let release = exe
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "release");
    if !release {
        eprintln!("warning: billtrail-bench is not a release build; figures will be meaningless");
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var_os("CARGO") {
        Some(cargo) if !common.no_build && workspace.join("Cargo.toml").is_file() => {
            let mut cmd = Command::new(cargo);
            cmd.current_dir(&workspace)
                .args(["build", "--quiet", "-p", "billtrail"]);
            if release {
                cmd.arg("--release");
            }
            eprintln!("building the billtrail binary ({})", bin.display());
            let status = cmd
                .status()
                .map_err(|e| format!("running cargo build: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "cargo build -p billtrail failed ({status}); pass --no-build to benchmark the existing binary"
                ));
            }
        }
        _ => {}
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build --release -p billtrail`, or pass --bin",
            bin.display()
        ))
    }
}

/// A child process, killed with SIGKILL (by its pid, which we own) when dropped.
pub struct ChildProc {
    child: Child,
    name: &'static str,
    log: Option<PathBuf>,
}

impl ChildProc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) -> Result<(), Error> {
        if self.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            self.child
                .kill()
                .map_err(|e| format!("killing {}: {e}", self.name))?;
        }
        self.child.wait().map_err(|e| e.to_string())?;
        Ok(())
    }

    /// An error that the child has exited, with the end of its log.
    fn exited(&mut self) -> Option<Error> {
        let status = self.child.try_wait().ok().flatten()?;
        let tail = self
            .log
            .as_ref()
            .and_then(|p| fs::read_to_string(p).ok())
            .map(|t| {
                let lines: Vec<&str> = t.lines().collect();
                lines[lines.len().saturating_sub(20)..].join("\n")
            })
            .unwrap_or_default();
        Some(format!("{} exited ({status}):\n{tail}", self.name))
    }

    /// Peak resident set size (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> Result<u64, Error> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(|e| format!("reading /proc/{}/status: {e}", self.pid()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .ok_or_else(|| "no VmHWM in /proc status".to_string())
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu(&self) -> Result<Duration, Error> {
        cpu_of(&format!("/proc/{}/stat", self.pid()))
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

/// CPU time (user + system) of this process so far.
pub fn own_cpu() -> Result<Duration, Error> {
    cpu_of("/proc/self/stat")
}

fn cpu_of(stat_path: &str) -> Result<Duration, Error> {
    let stat = fs::read_to_string(stat_path).map_err(|e| format!("reading {stat_path}: {e}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime 14 and stime 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("malformed /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64, Error> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| "malformed /proc stat".to_string())
    };
    let total = ticks(11)? + ticks(12)?;
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0).unwrap_or(100);
    Ok(Duration::from_nanos(total * 1_000_000_000 / hz))
}

/// Bytes available to unprivileged users on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> Result<u64, Error> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the right
    // type; statvfs fills it on success and we read it only then.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(format!(
            "statvfs {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: statvfs returned 0, so it initialized `st`.
    let st = unsafe { st.assume_init() };
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// A running `billtrail serve`.
pub struct Billtrail {
    pub proc: ChildProc,
    pub endpoint: Endpoint,
    pub creds: std::sync::Arc<Credentials>,
}

/// Environment variables that would override what the benchmark asks the server for.
const OVERRIDES: &[&str] = &[
    "BILLTRAIL_LISTEN",
    "BILLTRAIL_CONFIG",
    "BILLTRAIL_DATA_DIR",
    "BILLTRAIL_SERVER_LISTEN",
    "BILLTRAIL_SERVER_TLS_CERT",
    "BILLTRAIL_SERVER_TLS_KEY",
    "BILLTRAIL_SERVER_PUBLIC_URL",
    "BILLTRAIL_SERVER_MAX_BODY_BYTES",
    "BILLTRAIL_EVENTS_RETENTION",
    "BILLTRAIL_TRAIL_DELIVERY_INTERVAL",
    "BILLTRAIL_TRAIL_DIGEST_INTERVAL",
    "BILLTRAIL_TRAIL_MAX_FILE_BYTES",
];

/// Starts `bin serve` on `data_dir` on an ephemeral loopback port and waits until it answers
/// `/health`. The endpoint and credentials are read from the AWS CLI files it writes.
pub async fn start_billtrail(bin: &Path, data_dir: &Path) -> Result<Billtrail, Error> {
    start_billtrail_with(bin, data_dir, &[]).await
}

/// [`start_billtrail`] with configuration from `env` (`BILLTRAIL_<SECTION>_<KEY>` variables),
/// set after the [`OVERRIDES`] inherited from this process are removed.
pub async fn start_billtrail_with(
    bin: &Path,
    data_dir: &Path,
    env: &[(&str, &str)],
) -> Result<Billtrail, Error> {
    fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let aws = data_dir.join("aws");
    let config_path = aws.join("config");
    // The server rewrites it on every start; a stale one would point at an old port.
    match fs::remove_file(&config_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", config_path.display())),
    }
    let log_path = data_dir.join("bench-server.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    for v in OVERRIDES {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let mut proc = ChildProc {
        child,
        name: "billtrail serve",
        log: Some(log_path),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    let addr = loop {
        if let Some(e) = proc.exited() {
            return Err(e);
        }
        if let Some(addr) = read_endpoint(&config_path) {
            break addr;
        }
        if Instant::now() > deadline {
            return Err(format!("billtrail did not start within {START_TIMEOUT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let endpoint = Endpoint { addr };
    wait_healthy(&mut proc, &endpoint, deadline).await?;
    let creds = read_credentials(&aws.join("credentials"))?;
    Ok(Billtrail {
        proc,
        endpoint,
        creds: std::sync::Arc::new(creds),
    })
}

async fn wait_healthy(
    proc: &mut ChildProc,
    endpoint: &Endpoint,
    deadline: Instant,
) -> Result<(), Error> {
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some(e) = proc.exited() {
            return Err(e);
        }
        match Conn::open(endpoint.addr).await {
            Ok(mut c) => match c.get(&endpoint.host(), "/health").await {
                Ok((s, _)) if s.is_success() => return Ok(()),
                Ok((s, _)) => last = format!("/health answered {s}"),
                Err(e) => last = e,
            },
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!("{} did not become healthy: {last}", endpoint.addr))
}

/// `endpoint_url = http://127.0.0.1:PORT` from the profile's config file.
fn read_endpoint(config: &Path) -> Option<SocketAddr> {
    let text = fs::read_to_string(config).ok()?;
    let url = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("endpoint_url"))?
        .trim()
        .trim_start_matches('=')
        .trim();
    url.strip_prefix("http://")?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// The `billtrail` profile's keys from an AWS credentials file.
pub fn read_credentials(path: &Path) -> Result<Credentials, Error> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut in_profile = false;
    let (mut id, mut secret) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_profile = line == "[billtrail]";
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "aws_access_key_id" => id = Some(v.trim().to_string()),
                "aws_secret_access_key" => secret = Some(SecretKey::new(v.trim())),
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(access_key_id), Some(secret)) => Ok(Credentials {
            access_key_id,
            secret,
        }),
        _ => Err(format!(
            "{}: no [billtrail] profile with both keys",
            path.display()
        )),
    }
}

/// Starts this binary's `bare-server` mode and reads the address it listens on.
pub fn start_bare() -> Result<(ChildProc, Endpoint), Error> {
    // This very executable, even if a concurrent build has replaced the file since it started.
    let mut child = Command::new("/proc/self/exe")
        .args(["bare-server", "--listen", "127.0.0.1:0"])
        // The bare server exits when its stdin closes, so it never outlives the benchmark.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting the bare server: {e}"))?;
    let stdout = child.stdout.take().ok_or("bare server: no stdout")?;
    let proc = ChildProc {
        child,
        name: "bare server",
        log: None,
    };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("bare server: {e}"))?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("bare server said {line:?}"))?;
    Ok((proc, Endpoint { addr }))
}
