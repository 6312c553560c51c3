//! `delivery`: trail delivery, in two measurements.
//!
//! **Encoding throughput.** Records per second per core turned into CloudTrail log files by
//! [`billtrail_trail::encode_batch`], the function the server's delivery worker runs for every
//! batch: selection, grouping per account and region, the `{"Records":[...]}` JSON, the
//! single-member gzip and the SHA-256. The records are `SetContactAddress` calls shaped as
//! billtrail records them ([`gen::set_contact_address`]); they are made before each batch is
//! timed, and batches have the worker's size ([`DeliveryOptions::batch_limit`]). One thread does
//! the work, and its own CPU time is the denominator, so that other work on the machine does not
//! count against it. Not included: reading the batch from the store and writing the objects
//! (the end-to-end figures cover those).
//!
//! **Event to object.** The real `billtrail serve` binary with a short delivery interval, a
//! bucket made with S3's `CreateBucket` and a trail with `CreateTrail` and `StartLogging`, all
//! signed over HTTP; then signed `SetContactAddress` calls at a steady rate (open loop). A thread
//! lists the bucket's folder (`DATA_DIR/buckets/<bucket>`, where delivery renames each object
//! into place only once it is whole and fsynced) every 50 ms; each new log file is gunzipped and
//! every record in it gets `first seen − eventTime`. `eventTime` has whole seconds, so this is
//! measured from the start of the event's second: it overstates the true latency by less than
//! one second, never understates it. The same is measured from the moment each call's 200
//! arrived (its record was durable then), matched by `requestID`, to the object. At the end the
//! run waits for every answered call's record, then one more interval, and checks that each of
//! them is in exactly one delivered file.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use billtrail_store::StoredEvent;
use billtrail_trail::{DeliveryOptions, LoggingPeriod, Selectors, Trail};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::client::Credentials;
use crate::gen::{self, World};
use crate::report::{group, Figure, Floor, Section};
use crate::server;
use crate::{Common, DeliveryArgs, Error};

/// The account of the encoded records (the end-to-end phase uses the server's own).
const ACCOUNT: &str = "123456789012";
const SEED: u64 = 20_131_101;
const BUCKET: &str = "billtrail-bench-trail";
const TRAIL: &str = "bench";
const REGION: &str = "us-east-1";
const CT: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
/// The call under test, as `api` sends it.
const BODY: &str = r#"{"fullName":"Jane Doe","addressLine1":"1 Main St","city":"Seattle","state":"WA","postalCode":"98108","countryCode":"US","phoneNumber":"206-555-0100"}"#;
/// How often the bucket is listed.
const POLL: Duration = Duration::from_millis(50);

const THROUGHPUT_FLOOR: f64 = 50_000.0;
/// The p99 floor is the delivery interval plus this.
const LATENCY_SLACK_S: f64 = 5.0;

pub async fn run(bin: &Path, common: &Common, args: &DeliveryArgs) -> Result<Section, Error> {
    let records = args
        .records
        .unwrap_or(if common.quick { 50_000 } else { 200_000 })
        .max(1000);
    let load_secs = args
        .load_secs
        .unwrap_or(if common.quick { 10 } else { 30 })
        .max(1);
    let rate = args.call_rate.max(1);
    let interval = args.delivery_interval.max(1);
    let mut s = Section::new(&format!(
        "delivery: encoding {} records; {rate} calls/s for {load_secs} s, delivered every {interval} s",
        group(records as i64)
    ));

    eprintln!(
        "delivery: encoding {} records on one thread",
        group(records as i64)
    );
    let enc = tokio::task::spawn_blocking(move || encode_throughput(records))
        .await
        .map_err(|e| format!("encoding thread: {e}"))??;
    s.push(
        Figure::new(
            "delivery.records_per_s_per_core",
            enc.records as f64 / enc.cpu.as_secs_f64().max(1e-9),
            "records/s",
        )
        .floor(Floor::AtLeast(THROUGHPUT_FLOOR)),
    );
    s.push(Figure::new(
        "delivery.records_per_s_wall",
        enc.records as f64 / enc.wall.as_secs_f64().max(1e-9),
        "records/s",
    ));
    s.notes.push(format!(
        "encoding: {} records in {} files, {:.0} bytes each, {:.2} s of thread CPU ({:.2} s wall), \
         {:.1} MB/s of JSON per core, gzip to {:.1} %; selection + JSON + gzip + SHA-256 \
         (billtrail_trail::encode_batch), no store read, no object write",
        group(enc.records as i64),
        enc.files,
        enc.json_bytes as f64 / enc.records.max(1) as f64,
        enc.cpu.as_secs_f64(),
        enc.wall.as_secs_f64(),
        enc.json_bytes as f64 / enc.cpu.as_secs_f64().max(1e-9) / 1e6,
        100.0 * enc.gzip_bytes as f64 / enc.json_bytes.max(1) as f64,
    ));

    end_to_end(&mut s, bin, rate, load_secs, interval).await?;
    Ok(s)
}

/// What the encoding measurement did.
struct Encoded {
    records: u64,
    files: u64,
    json_bytes: u64,
    gzip_bytes: u64,
    cpu: Duration,
    wall: Duration,
}

/// CPU time (user + system) of the calling thread so far.
fn thread_cpu() -> Result<Duration, Error> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Err(format!(
            "clock_gettime(CLOCK_THREAD_CPUTIME_ID): {}",
            std::io::Error::last_os_error()
        ));
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

/// A multi-region trail of `account` with the default selectors, logging from the start: it
/// selects every record of the benchmark, as the trail of the end-to-end phase does.
fn bench_trail(account: &str) -> Trail {
    Trail {
        id: "bench-trail".into(),
        name: TRAIL.into(),
        arn: billtrail_trail::trail_arn(REGION, account, TRAIL),
        account_id: account.into(),
        home_region: REGION.into(),
        s3_bucket_name: BUCKET.into(),
        s3_key_prefix: None,
        sns_topic_name: None,
        include_global_service_events: true,
        is_multi_region_trail: true,
        is_organization_trail: false,
        organization_id: None,
        log_file_validation_enabled: false,
        kms_key_id: None,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        recursive_logging: None,
        is_logging: true,
        selectors: Selectors::Default,
        tags: Vec::new(),
        created: 0,
        start_logging_time: Some(0),
        stop_logging_time: None,
        logging: vec![LoggingPeriod {
            after: 0,
            until: None,
        }],
    }
}

/// Encodes `n` records in batches of the worker's size on this thread; one untimed batch first.
fn encode_throughput(n: u64) -> Result<Encoded, Error> {
    let opts = DeliveryOptions::default();
    let batch = opts.batch_limit.max(1) as u64;
    let world = World::new(ACCOUNT, SEED);
    let trail = bench_trail(ACCOUNT);
    let mut rng = StdRng::seed_from_u64(SEED);
    // 200 calls in each second, ending about now.
    let per_second = 200;
    let t0 = OffsetDateTime::now_utc().unix_timestamp() - (n + batch) as i64 / per_second;
    let mut seq = 0u64;
    let mut out = Encoded {
        records: 0,
        files: 0,
        json_bytes: 0,
        gzip_bytes: 0,
        cpu: Duration::ZERO,
        wall: Duration::ZERO,
    };
    let mut warm = true;
    while out.records < n {
        let len = if warm {
            batch
        } else {
            batch.min(n - out.records)
        };
        let after = seq;
        let events: Vec<StoredEvent> = (0..len)
            .map(|_| {
                seq += 1;
                StoredEvent {
                    seq,
                    event: gen::set_contact_address(&world, &mut rng, t0 + (seq / 200) as i64),
                }
            })
            .collect();
        let (cpu0, wall0) = (thread_cpu()?, Instant::now());
        let (files, selected) =
            billtrail_trail::encode_batch(&trail, None, (after, seq), &events, opts.max_file_bytes);
        let (cpu1, wall1) = (thread_cpu()?, Instant::now());
        if selected != events.len() || files.is_empty() {
            return Err(format!(
                "encoding: the trail selected {selected} of {} records into {} files",
                events.len(),
                files.len()
            ));
        }
        if warm {
            warm = false;
            continue;
        }
        out.records += len;
        out.files += files.len() as u64;
        out.json_bytes += events
            .iter()
            .map(|e| e.event.record.len() as u64)
            .sum::<u64>();
        out.gzip_bytes += files.iter().map(|f| f.body.len() as u64).sum::<u64>();
        out.cpu += cpu1.saturating_sub(cpu0);
        out.wall += wall1 - wall0;
    }
    Ok(out)
}

/// Seconds since the epoch, now.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Signed requests to the server under test, with their response headers (which `Conn` does
/// not return): the `x-amzn-requestid` of each answer ties the call to its record.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    creds: Arc<Credentials>,
}

/// One answered request.
struct Answer {
    status: u16,
    request_id: Option<String>,
    body: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        service: &str,
        target: Option<&str>,
        body: &[u8],
    ) -> Result<Answer, Error> {
        let url = format!("{}{path}", self.base);
        let mut headers = http::HeaderMap::new();
        if let Some(t) = target {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(crate::client::JSON_11),
            );
            headers.insert(
                "x-amz-target",
                http::HeaderValue::from_str(t).map_err(|e| e.to_string())?,
            );
        }
        let signed = billtrail_auth::sigv4::sign(
            method.as_str(),
            &url,
            &headers,
            body,
            &self.creds.access_key_id,
            &self.creds.secret,
            None,
            REGION,
            service,
            OffsetDateTime::now_utc(),
        )
        .map_err(|e| format!("signing: {e}"))?;
        let mut req = self
            .http
            .request(method, &url)
            .headers(headers)
            .body(body.to_vec());
        for (k, v) in signed {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.text().await.map_err(|e| format!("{path}: {e}"))?;
        Ok(Answer {
            status,
            request_id,
            body,
        })
    }

    /// A CloudTrail call that must succeed.
    async fn cloudtrail(&self, op: &str, body: Value) -> Result<(), Error> {
        let target = format!("{CT}.{op}");
        let a = self
            .send(
                reqwest::Method::POST,
                "/",
                "cloudtrail",
                Some(&target),
                body.to_string().as_bytes(),
            )
            .await?;
        if a.status != 200 {
            return Err(format!("{op} answered HTTP {}: {}", a.status, a.body));
        }
        Ok(())
    }
}

/// One record of a delivered log file.
struct Delivered {
    event_id: String,
    request_id: String,
    event_time: i64,
    /// When its file was first seen, Unix seconds.
    seen: f64,
}

/// What the bucket poller found so far.
#[derive(Default)]
struct Found {
    files: usize,
    records: Vec<Delivered>,
    request_ids: HashSet<String>,
    errors: Vec<String>,
}

/// Every `.json.gz` log file under `dir`, recursively (temporary files and sidecars excluded).
fn log_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => log_files(&path, out),
            Ok(t) if t.is_file() && name.ends_with(".json.gz") => out.push(path),
            _ => {}
        }
    }
}

/// The records of one log file: gunzipped (one gzip member, nothing after it) and parsed.
fn read_log_file(path: &Path, seen: f64) -> Result<Vec<Delivered>, Error> {
    let body = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut dec = flate2::bufread::GzDecoder::new(&body[..]);
    let mut json = Vec::new();
    dec.read_to_end(&mut json)
        .map_err(|e| format!("{}: gunzip: {e}", path.display()))?;
    if !dec.into_inner().is_empty() {
        return Err(format!("{}: more than one gzip member", path.display()));
    }
    let v: Value = serde_json::from_slice(&json).map_err(|e| format!("{}: {e}", path.display()))?;
    let records = v["Records"]
        .as_array()
        .ok_or_else(|| format!("{}: no Records array", path.display()))?;
    records
        .iter()
        .map(|r| {
            let time = r["eventTime"].as_str().unwrap_or_default();
            let event_time = OffsetDateTime::parse(time, &Rfc3339)
                .map_err(|e| format!("{}: eventTime {time:?}: {e}", path.display()))?
                .unix_timestamp();
            Ok(Delivered {
                event_id: r["eventID"].as_str().unwrap_or_default().to_string(),
                request_id: r["requestID"].as_str().unwrap_or_default().to_string(),
                event_time,
                seen,
            })
        })
        .collect()
}

/// Lists `dir` every [`POLL`] until `stop`, then once more; reads each new log file at once.
fn poll(dir: PathBuf, stop: Arc<AtomicBool>, found: Arc<Mutex<Found>>) {
    let mut known: HashSet<PathBuf> = HashSet::new();
    loop {
        let last = stop.load(Ordering::Acquire);
        let mut paths = Vec::new();
        log_files(&dir, &mut paths);
        for p in paths {
            if known.contains(&p) {
                continue;
            }
            let seen = unix_now();
            let result = read_log_file(&p, seen);
            known.insert(p);
            let Ok(mut f) = found.lock() else { return };
            f.files += 1;
            match result {
                Ok(records) => {
                    for r in records {
                        f.request_ids.insert(r.request_id.clone());
                        f.records.push(r);
                    }
                }
                Err(e) => f.errors.push(e),
            }
        }
        if last {
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// One `SetContactAddress` of the load.
struct Sent {
    /// The `x-amzn-requestid` of a 200.
    ok: Option<String>,
    /// When the answer arrived, Unix seconds.
    answered: f64,
    error: Option<String>,
}

/// Sends `rate` signed `SetContactAddress` calls per second for `secs` seconds: call `i` goes
/// out at `start + i / rate`, whether or not earlier ones were answered.
async fn load(api: &Api, rate: u64, secs: u64) -> Result<Vec<Sent>, Error> {
    let total = rate.saturating_mul(secs);
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_nanos(i.saturating_mul(1_000_000_000) / rate);
        tokio::time::sleep_until(due).await;
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let r = api
                .send(
                    reqwest::Method::POST,
                    "/",
                    "billingconsole",
                    Some("AWSBillingConsoleService.SetContactAddress"),
                    BODY.as_bytes(),
                )
                .await;
            let answered = unix_now();
            match r {
                Ok(a) if a.status == 200 => match a.request_id {
                    Some(id) => Sent {
                        ok: Some(id),
                        answered,
                        error: None,
                    },
                    None => Sent {
                        ok: None,
                        answered,
                        error: Some("a 200 without x-amzn-requestid".into()),
                    },
                },
                Ok(a) => Sent {
                    ok: None,
                    answered,
                    error: Some(format!(
                        "HTTP {}: {}",
                        a.status,
                        &a.body[..a.body.len().min(300)]
                    )),
                },
                Err(e) => Sent {
                    ok: None,
                    answered,
                    error: Some(e),
                },
            }
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The `q` quantile (nearest rank) of sorted `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

async fn end_to_end(
    s: &mut Section,
    bin: &Path,
    rate: u64,
    secs: u64,
    interval: u64,
) -> Result<(), Error> {
    let tmp = tempfile::Builder::new()
        .prefix("billtrail-bench-delivery-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let data = tmp.path().join("data");
    let interval_text = format!("{interval}s");
    eprintln!(
        "delivery: starting {} on {} (delivery every {interval_text})",
        bin.display(),
        data.display()
    );
    // No log file validation, so the digest interval changes nothing; set so that the
    // environment cannot.
    let mut srv = server::start_billtrail_with(
        bin,
        &data,
        &[
            ("BILLTRAIL_TRAIL_DELIVERY_INTERVAL", &interval_text),
            ("BILLTRAIL_TRAIL_DIGEST_INTERVAL", "1h"),
        ],
    )
    .await?;
    let api = Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?,
        base: format!("http://{}", srv.endpoint.addr),
        creds: srv.creds.clone(),
    };

    let made = api
        .send(reqwest::Method::PUT, &format!("/{BUCKET}"), "s3", None, b"")
        .await?;
    if made.status != 200 {
        return Err(format!(
            "CreateBucket answered HTTP {}: {}",
            made.status, made.body
        ));
    }
    api.cloudtrail(
        "CreateTrail",
        json!({"Name": TRAIL, "S3BucketName": BUCKET, "IsMultiRegionTrail": true}),
    )
    .await?;
    api.cloudtrail("StartLogging", json!({"Name": TRAIL}))
        .await?;

    let found = Arc::new(Mutex::new(Found::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let dir = data.join("buckets").join(BUCKET);
        let (stop, found) = (stop.clone(), found.clone());
        std::thread::spawn(move || poll(dir, stop, found))
    };

    eprintln!("delivery: {rate} SetContactAddress calls/s for {secs} s");
    let began = Instant::now();
    let sent = load(&api, rate, secs).await?;
    let load_elapsed = began.elapsed();
    let answered: HashMap<&str, f64> = sent
        .iter()
        .filter_map(|c| c.ok.as_deref().map(|id| (id, c.answered)))
        .collect();
    let errors: Vec<&str> = sent.iter().filter_map(|c| c.error.as_deref()).collect();
    if let Some(first) = errors.first() {
        s.failures.push(format!(
            "{} of {} SetContactAddress calls did not get a 200; first: {first}",
            errors.len(),
            sent.len()
        ));
    }

    // Wait for every answered call's record (a generous bound), then one more interval for
    // any duplicate a repeated batch would bring.
    let deadline = Instant::now() + Duration::from_secs(2 * interval + 10);
    let waited = Instant::now();
    loop {
        let pending = {
            let f = found.lock().map_err(|_| "the poller panicked")?;
            answered
                .keys()
                .filter(|id| !f.request_ids.contains(**id))
                .count()
        };
        if pending == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_in = waited.elapsed();
    eprintln!(
        "delivery: records of the answered calls delivered {:.1} s after the load; waiting one more interval",
        all_in.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(interval) + POLL * 2).await;
    stop.store(true, Ordering::Release);
    poller.join().map_err(|_| "the bucket poller panicked")?;
    srv.proc.kill9()?;
    let found = std::mem::take(&mut *found.lock().map_err(|_| "the poller panicked")?);

    for e in &found.errors {
        s.failures.push(format!("log file: {e}"));
    }
    let mut per_event: HashMap<&str, u32> = HashMap::new();
    for r in &found.records {
        *per_event.entry(r.event_id.as_str()).or_default() += 1;
    }
    let duplicates: u64 = per_event.values().map(|n| u64::from(n - 1)).sum();
    let mut per_request: HashMap<&str, &Delivered> = HashMap::new();
    for r in &found.records {
        per_request.entry(r.request_id.as_str()).or_insert(r);
    }
    let missing = answered
        .keys()
        .filter(|id| !per_request.contains_key(**id))
        .count() as u64;
    // A duplicate of an answered call's record: its event ID is in more than one place.
    let answered_dups = answered
        .keys()
        .filter_map(|id| per_request.get(id))
        .filter(|r| per_event.get(r.event_id.as_str()).is_some_and(|n| *n > 1))
        .count();
    if missing > 0 {
        s.failures.push(format!(
            "{missing} of {} answered calls have no record in any delivered log file after waiting {:.0} s",
            answered.len(),
            all_in.as_secs_f64() + interval as f64
        ));
    }
    if duplicates > 0 {
        s.failures.push(format!(
            "{duplicates} duplicate records delivered ({answered_dups} of them of answered calls)"
        ));
    }

    let event_to_object = sorted(
        found
            .records
            .iter()
            .map(|r| r.seen - r.event_time as f64)
            .collect(),
    );
    let answer_to_object = sorted(
        answered
            .iter()
            .filter_map(|(id, at)| per_request.get(id).map(|r| r.seen - at))
            .collect(),
    );
    let floor = interval as f64 + LATENCY_SLACK_S;
    s.push(Figure::new(
        "delivery.event_to_object_p50_s",
        quantile(&event_to_object, 0.5),
        "s",
    ));
    s.push(
        Figure::new(
            "delivery.event_to_object_p99_s",
            quantile(&event_to_object, 0.99),
            "s",
        )
        .floor(Floor::AtMost(floor)),
    );
    s.push(Figure::new(
        "delivery.event_to_object_max_s",
        event_to_object.last().copied().unwrap_or(f64::NAN),
        "s",
    ));
    s.push(Figure::new(
        "delivery.answer_to_object_p50_s",
        quantile(&answer_to_object, 0.5),
        "s",
    ));
    s.push(Figure::new(
        "delivery.answer_to_object_p99_s",
        quantile(&answer_to_object, 0.99),
        "s",
    ));
    s.push(Figure::new(
        "delivery.calls_answered_200",
        answered.len() as f64,
        "count",
    ));
    s.push(Figure::new(
        "delivery.records_delivered",
        found.records.len() as f64,
        "count",
    ));
    s.push(Figure::new(
        "delivery.log_files",
        found.files as f64,
        "count",
    ));
    s.push(Figure::new(
        "delivery.answered_missing",
        missing as f64,
        "count",
    ));
    s.push(Figure::new(
        "delivery.duplicate_records",
        duplicates as f64,
        "count",
    ));
    s.notes.push(format!(
        "event_to_object = first seen in the bucket (listed every {} ms) - eventTime, over every \
         delivered record; eventTime has whole seconds, so it counts from the start of the event's \
         second (+0 s): at most 1 s more than the true latency",
        POLL.as_millis()
    ));
    s.notes.push(format!(
        "answer_to_object = first seen - the client's receipt of the call's 200 (record durable), \
         matched by requestID; load: {} calls in {:.1} s ({:.0} calls/s achieved)",
        sent.len(),
        load_elapsed.as_secs_f64(),
        sent.len() as f64 / load_elapsed.as_secs_f64().max(1e-9)
    ));
    s.notes.push(format!(
        "the real server with BILLTRAIL_TRAIL_DELIVERY_INTERVAL={interval_text}, bucket and trail \
         made over HTTP (CreateBucket, CreateTrail, StartLogging; no log file validation); the \
         delivered records include the StartLogging call's own"
    ));
    drop(tmp);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v = sorted((1..=100).rev().map(f64::from).collect());
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[7.0], 0.5), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn the_bench_trail_selects_every_record_of_the_benchmark() {
        let world = World::new(ACCOUNT, SEED);
        let mut rng = StdRng::seed_from_u64(1);
        let events: Vec<StoredEvent> = (1..=50u64)
            .map(|seq| StoredEvent {
                seq,
                event: gen::set_contact_address(&world, &mut rng, 1_764_000_000),
            })
            .collect();
        let (files, selected) = billtrail_trail::encode_batch(
            &bench_trail(ACCOUNT),
            None,
            (0, 50),
            &events,
            DeliveryOptions::default().max_file_bytes,
        );
        assert_eq!((files.len(), selected), (1, 50));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.json.gz");
        std::fs::write(&path, &files[0].body).expect("write");
        let read = read_log_file(&path, 1_764_000_003.5).expect("a log file");
        assert_eq!(read.len(), 50);
        assert_eq!(read[0].event_id, events[0].event.event_id);
        assert_eq!(read[0].event_time, 1_764_000_000);
        let v: Value = serde_json::from_str(&events[0].event.record).expect("json");
        assert_eq!(read[0].request_id, v["requestID"].as_str().expect("id"));
        assert_eq!(v["eventName"], "SetContactAddress");
    }
}
