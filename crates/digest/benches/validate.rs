//! `billtrail validate` against `aws cloudtrail validate-logs`, on the same trail of at least
//! 200 MB of log files, in one run, with the ratio printed (issue 4's floor: ≥ 10× faster).
//!
//! ```text
//! cargo bench -p billtrail-digest --bench validate [-- --mb 200 --file-kb 16]
//! ```
//!
//! What it does:
//! 1. Starts the real `billtrail serve` (release build; `BILLTRAIL_BIN` to use another) on a
//!    fresh data dir, with digests every 5 s; creates a bucket and a trail with log file
//!    validation through the real AWS CLI, starts logging, and waits for the digest chain.
//! 2. Stops the server and delivers `--mb` MB of log files into the trail's bucket the way
//!    delivery does (gzip object, then the delivered-log entry the digest worker seals):
//!    realistic CloudTrail records, `--file-kb` KB per gzip file (real trails deliver many
//!    small files).
//! 3. Restarts the server; its digest worker signs digests over all of them.
//! 4. Times `aws cloudtrail validate-logs` (CloudTrail API `--endpoint-url`, S3 API by
//!    `AWS_ENDPOINT_URL_S3`, both the server's) and `billtrail validate --data-dir` over the
//!    same range, checks that both find every digest and log file valid, and prints the ratio.
//!
//! The AWS CLI comes from `AWS_CLI`, `$BILLTRAIL_VENV/bin/aws`, `~/.cache/billtrail/venv`,
//! `~/.cache/billtrail-venv`, or the PATH.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use billtrail_digest::format;
use billtrail_objects::{LocalStore, Metadata, ObjectStore};
use billtrail_store::{Key, Store};
use billtrail_trail::file::{log_key, Layout};
use billtrail_trail::{trail_log_id, DeliveredLog, Trail, TRAIL_KIND, TRAIL_LOG_KIND};
use bytes::Bytes;
use rand::Rng;

const BUCKET: &str = "bench-trail-bucket";
const TRAIL: &str = "bench-trail";

type Res<T> = Result<T, String>;

fn main() {
    if let Err(e) = run() {
        eprintln!("validate bench: {e}");
        std::process::exit(1);
    }
}

struct Args {
    mb: u64,
    file_kb: u64,
}

fn args() -> Args {
    let mut a = Args {
        mb: 200,
        file_kb: 16,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let next = argv.get(i + 1).and_then(|v| v.parse().ok());
        match argv.get(i).map(String::as_str) {
            Some("--mb") => a.mb = next.unwrap_or(a.mb),
            Some("--file-kb") => a.file_kb = next.unwrap_or(a.file_kb),
            _ => {}
        }
        i += 1;
    }
    a
}

fn run() -> Res<()> {
    let args = args();
    let bin = billtrail_bin()?;
    let aws = aws_cli()?;
    let mut dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // BILLTRAIL_BENCH_KEEP=1 keeps the data dir, to look at or validate again.
    dir.disable_cleanup(std::env::var_os("BILLTRAIL_BENCH_KEEP").is_some());
    let data = dir.path().join("data");
    let port = free_port()?;
    println!(
        "billtrail: {}\naws: {}\ndata dir: {}",
        bin.display(),
        aws.display(),
        data.display()
    );

    // 1. A trail with validation, through the real API.
    let mut server = Server::start(&bin, &data, port)?;
    let env = server.aws_env()?;
    let aws_run = |args: &[&str]| -> Res<String> {
        let out = Command::new(&aws)
            .args(args)
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "aws {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    aws_run(&["s3", "mb", &format!("s3://{BUCKET}")])?;
    aws_run(&[
        "cloudtrail",
        "create-trail",
        "--name",
        TRAIL,
        "--s3-bucket-name",
        BUCKET,
        "--enable-log-file-validation",
    ])?;
    let chain_start = time::OffsetDateTime::now_utc();
    aws_run(&["cloudtrail", "start-logging", "--name", TRAIL])?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !aws_run(&["cloudtrail", "list-public-keys"])?.contains("Fingerprint") {
        if Instant::now() > deadline {
            return Err("no signing key after 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    server.stop();

    // 2. The log files, delivered as delivery does.
    let (files, bytes, raw) = generate(&data, args.mb * 1024 * 1024, args.file_kb * 1024)?;
    println!(
        "delivered {files} log files: {:.1} MB gzip, {:.2} GB of JSON",
        bytes as f64 / 1048576.0,
        raw as f64 / 1073741824.0
    );

    // 3. The server seals them in digests.
    let mut server = Server::start(&bin, &data, port)?;
    let env = server.aws_env()?;
    let sealed_by = Instant::now() + Duration::from_secs(600);
    loop {
        let reader = billtrail_store::sqlite::SqliteReader::open_read_only(&data.join("store"))
            .map_err(|e| e.to_string())?;
        let left = billtrail_store::ReadSide::scan(&reader, "", TRAIL_LOG_KIND)
            .map_err(|e| e.to_string())?
            .len();
        if left == 0 {
            break;
        }
        if Instant::now() > sealed_by {
            return Err(format!("{left} log files still unsealed after 10 minutes"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(6));
    let trail_arn = {
        let reader = billtrail_store::sqlite::SqliteReader::open_read_only(&data.join("store"))
            .map_err(|e| e.to_string())?;
        billtrail_store::ReadSide::scan(&reader, "", TRAIL_KIND)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(arn, _)| arn)
            .next()
            .ok_or("no trail")?
    };
    // Stop logging, so that the chain ends with a final digest and both validators see the
    // same files (the AWS CLI lists digests up to an hour past --end-time).
    let out = Command::new(&aws)
        .args(["cloudtrail", "stop-logging", "--name", TRAIL])
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "stop-logging: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let ended_by = Instant::now() + Duration::from_secs(120);
    loop {
        let reader = billtrail_store::sqlite::SqliteReader::open_read_only(&data.join("store"))
            .map_err(|e| e.to_string())?;
        let chains = billtrail_store::ReadSide::scan(&reader, "", "digest_chain")
            .map_err(|e| e.to_string())?;
        let ended = chains.iter().all(|(_, c)| c.contains("\"active\":false"));
        let left = billtrail_store::ReadSide::scan(&reader, "", TRAIL_LOG_KIND)
            .map_err(|e| e.to_string())?
            .len();
        if ended && left == 0 {
            break;
        }
        if Instant::now() > ended_by {
            return Err("no final digest 2 minutes after StopLogging".into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let start = format::iso_time(chain_start - time::Duration::minutes(1));
    let end = format::iso_time(time::OffsetDateTime::now_utc());

    // 4. Both validators, same range.
    let t = Instant::now();
    let cli = Command::new(&aws)
        .args([
            "cloudtrail",
            "validate-logs",
            "--trail-arn",
            &trail_arn,
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--endpoint-url",
            &server.url(),
        ])
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let cli_time = t.elapsed();
    let cli_out = String::from_utf8_lossy(&cli.stdout).into_owned();
    let t = Instant::now();
    let ours = Command::new(&bin)
        .args([
            "validate",
            "--data-dir",
            &data.display().to_string(),
            "--trail-arn",
            &trail_arn,
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--no-progress",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let our_time = t.elapsed();
    let our_out = String::from_utf8_lossy(&ours.stdout).into_owned();
    server.stop();

    let summary = |s: &str| {
        s.lines()
            .filter(|l| l.contains(" files valid"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    println!(
        "\naws cloudtrail validate-logs: {:.2} s (exit {:?})",
        cli_time.as_secs_f64(),
        cli.status.code()
    );
    for l in summary(&cli_out) {
        println!("  {l}");
    }
    println!(
        "billtrail validate:           {:.2} s (exit {:?})",
        our_time.as_secs_f64(),
        ours.status.code()
    );
    for l in summary(&our_out) {
        println!("  {l}");
    }
    let ratio = cli_time.as_secs_f64() / our_time.as_secs_f64().max(1e-9);
    let mb = bytes as f64 / 1048576.0;
    println!(
        "\nvalidation of {mb:.1} MB in {files} log files: billtrail {:.0} MB/s, aws cli {:.1} MB/s: {ratio:.1}x faster (floor 10x: {})",
        mb / our_time.as_secs_f64().max(1e-9),
        mb / cli_time.as_secs_f64().max(1e-9),
        if ratio >= 10.0 { "met" } else { "NOT MET" }
    );
    if !cli.status.success() || !ours.status.success() {
        return Err(format!(
            "a validator found problems:\n{}\n{}\n{}",
            String::from_utf8_lossy(&cli.stderr),
            String::from_utf8_lossy(&ours.stderr),
            our_out
        ));
    }
    if summary(&cli_out) != summary(&our_out) {
        return Err("the two validators disagree".into());
    }
    // Every generated file, and the few the API calls above delivered themselves.
    let all_valid = summary(&cli_out).iter().any(|l| {
        let (valid, rest) = l.split_once('/').unwrap_or_default();
        let total = rest.split(' ').next().unwrap_or_default();
        rest.ends_with(" log files valid")
            && valid == total
            && valid.parse::<u64>().is_ok_and(|n| n >= files)
    });
    if !all_valid {
        return Err(format!(
            "the AWS CLI did not see all {files} log files valid:\n{cli_out}"
        ));
    }
    Ok(())
}

/// Writes `total` bytes of gzip log files (`file` bytes each) into the trail's bucket, and
/// one delivered-log entry each. Returns (files, gzip bytes, JSON bytes).
fn generate(data: &Path, total: u64, file: u64) -> Res<(u64, u64, u64)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let store = Store::open_sqlite(&data.join("store")).map_err(|e| e.to_string())?;
        let objects = Arc::new(LocalStore::new(data.join("buckets")));
        let trail: Trail = store
            .read()
            .scan("", TRAIL_KIND)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find_map(|(_, t)| serde_json::from_str(&t).ok())
            .ok_or("no trail")?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // Calibrate records per file on a sample.
        let per_record = {
            let sample = records_json(&trail, 200, now);
            (format::gzip(&sample).len() as u64 / 200).max(1)
        };
        let per_file = (file / per_record).max(1) as usize;
        let files = (total / (per_record * per_file as u64)).max(1);
        let (mut written, mut raw) = (0u64, 0u64);
        let mut entries = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..files {
            let (trail, objects) = (trail.clone(), objects.clone());
            // File times spread over the last minutes, oldest first, all delivered by now.
            let t = now - (files - i) as i64 * 60 / files.max(1) as i64 - 1;
            tasks.spawn(async move {
                let for_json = trail.clone();
                let json =
                    tokio::task::spawn_blocking(move || records_json(&for_json, per_file, t))
                        .await
                        .map_err(|e| e.to_string())?;
                let body = format::gzip(&json);
                let key = log_key(
                    Layout {
                        prefix: trail.s3_key_prefix.as_deref(),
                        organization_id: None,
                    },
                    &trail.account_id,
                    &trail.home_region,
                    t,
                    &format!("B{i:015}"),
                );
                let (gz, len) = (body.len() as u64, json.len() as u64);
                objects
                    .put(
                        &trail.s3_bucket_name,
                        &key,
                        Bytes::from(body),
                        &Metadata::new(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let log = DeliveredLog {
                    trail_arn: trail.arn.clone(),
                    account_id: trail.account_id.clone(),
                    region: trail.home_region.clone(),
                    bucket: trail.s3_bucket_name.clone(),
                    key,
                    sha256_hex: format::sha256_hex(&json),
                    oldest_event_time: format::iso_unix(t - 30),
                    newest_event_time: format::iso_unix(t),
                    delivered_at: t + 1,
                };
                Ok::<_, String>((log, gz, len))
            });
            while tasks.len() >= 8 {
                if let Some(r) = tasks.join_next().await {
                    let (log, gz, len) = r.map_err(|e| e.to_string())??;
                    written += gz;
                    raw += len;
                    entries.push(log);
                }
            }
        }
        while let Some(r) = tasks.join_next().await {
            let (log, gz, len) = r.map_err(|e| e.to_string())??;
            written += gz;
            raw += len;
            entries.push(log);
        }
        for chunk in entries.chunks(1000) {
            let chunk = chunk.to_vec();
            store
                .transact(move |t| {
                    for log in &chunk {
                        t.put(&Key::global(TRAIL_LOG_KIND, &trail_log_id(log)), log)?;
                    }
                    Ok(())
                })
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok((files, written, raw))
    })
}

/// `{"Records":[...]}` of `n` records shaped like billtrail's own (CloudTrail 1.11).
fn records_json(trail: &Trail, n: usize, newest: i64) -> Vec<u8> {
    let mut rng = rand::thread_rng();
    let names = [
        "GetContactInformation",
        "ListBillingViews",
        "GetTaxRegistration",
        "DescribeTrails",
        "SetContactAddress",
    ];
    let mut out = Vec::with_capacity(n * 1200);
    out.extend_from_slice(b"{\"Records\":[");
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        let t = format::iso_unix(newest - (n - 1 - i) as i64 / 10);
        let name = names[rng.gen_range(0..names.len())];
        let uuid = |r: &mut rand::rngs::ThreadRng| {
            let b: [u8; 16] = r.gen();
            let h = hex::encode(b);
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        };
        let record = serde_json::json!({
            "eventVersion": "1.11",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": format!("AIDA{:016X}", rng.gen::<u64>()),
                "arn": format!("arn:aws:iam::{}:user/user-{}", trail.account_id, rng.gen_range(0..50)),
                "accountId": trail.account_id,
                "accessKeyId": format!("AKIA{:016X}", rng.gen::<u64>()),
                "userName": format!("user-{}", rng.gen_range(0..50)),
            },
            "eventTime": t,
            "eventSource": "billingconsole.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": format!("10.{}.{}.{}", rng.gen::<u8>(), rng.gen::<u8>(), rng.gen::<u8>()),
            "userAgent": "aws-cli/1.46.3 md/Botocore#1.44.8 ua/2.1 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#standard botocore/1.44.8",
            "requestParameters": {"billingViewArn": format!("arn:aws:billing::{}:billingview/primary", trail.account_id), "maxResults": rng.gen_range(1..100)},
            "responseElements": null,
            "requestID": uuid(&mut rng),
            "eventID": uuid(&mut rng),
            "readOnly": name.starts_with("Get") || name.starts_with("List") || name.starts_with("Describe"),
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": trail.account_id,
            "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "127.0.0.1"},
        });
        out.extend_from_slice(record.to_string().as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

struct Server {
    child: Option<Child>,
    data: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Server {
    fn start(bin: &Path, data: &Path, port: u16) -> Res<Server> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.with_file_name("serve.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .args([
                "serve",
                "--data-dir",
                &data.display().to_string(),
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("BILLTRAIL_TRAIL_DIGEST_INTERVAL", "5s")
            .env("BILLTRAIL_TRAIL_DELIVERY_INTERVAL", "1s")
            .env("BILLTRAIL_ROOT_PASSWORD", "bench-Password-1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let s = Server {
            child: Some(child),
            data: data.to_path_buf(),
            bin: bin.to_path_buf(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !s.healthy() {
            if Instant::now() > deadline {
                return Err("the server did not become healthy in 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(s)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn healthy(&self) -> bool {
        let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
        if c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut buf = String::new();
        let _ = c.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200")
    }

    /// The environment `billtrail env` exports, for the AWS CLI.
    fn aws_env(&self) -> Res<Vec<(String, String)>> {
        let out = Command::new(&self.bin)
            .args(["env", "--data-dir", &self.data.display().to_string()])
            .output()
            .map_err(|e| e.to_string())?;
        let mut env: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
            .collect();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        env.push((
            "AWS_DATA_PATH".into(),
            repo.join("models").display().to_string(),
        ));
        env.push(("AWS_PAGER".into(), String::new()));
        env.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
        Ok(env)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM, as the server expects; it exits once every answered call is durable.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn billtrail_bin() -> Res<PathBuf> {
    if let Ok(b) = std::env::var("BILLTRAIL_BIN") {
        return Ok(PathBuf::from(b));
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "billtrail"])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("cargo build --release -p billtrail failed".into());
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    Ok(target.join("release/billtrail"))
}

fn aws_cli() -> Res<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(a) = std::env::var("AWS_CLI") {
        candidates.push(a.into());
    }
    if let Ok(v) = std::env::var("BILLTRAIL_VENV") {
        candidates.push(Path::new(&v).join("bin/aws"));
    }
    candidates.push(Path::new(&home).join(".cache/billtrail/venv/bin/aws"));
    candidates.push(Path::new(&home).join(".cache/billtrail-venv/bin/aws"));
    for c in candidates {
        if c.is_file() {
            return Ok(c);
        }
    }
    let out = Command::new("sh")
        .args(["-c", "command -v aws"])
        .output()
        .map_err(|e| e.to_string())?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if p.is_empty() {
        return Err("no AWS CLI: set AWS_CLI, or run scripts/test once to make the venv".into());
    }
    Ok(p.into())
}
