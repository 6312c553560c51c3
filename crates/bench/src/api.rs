//! `api`: audited `SetContactAddress` throughput (closed loop), next to a bare axum handler, and
//! latency at a fixed rate (open loop); then the audit check: one durable record per 200.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use billtrail_auth::SecretKey;
use hdrhistogram::Histogram;
use hyper::body::Bytes;

use crate::client::{self, Call, Conn, Credentials, Endpoint, FixedSigner};
use crate::report::{Figure, Floor, Section};
use crate::server;
use crate::{ApiArgs, Common, Error};

/// The call under test, with the seed's example values (trimmed to the required members plus a
/// state).
const BODY: &str = r#"{"fullName":"Jane Doe","addressLine1":"1 Main St","city":"Seattle","state":"WA","postalCode":"98108","countryCode":"US","phoneNumber":"206-555-0100"}"#;

fn set_contact_address() -> Call {
    Call {
        service: "billingconsole",
        target: "AWSBillingConsoleService.SetContactAddress",
        body: Bytes::from_static(BODY.as_bytes()),
    }
}

/// What one load phase saw.
struct PhaseStats {
    /// 200s completed inside the measured window.
    ok_window: u64,
    /// Every 200, warm-up and stragglers included (for the audit count).
    ok_total: u64,
    errors: u64,
    first_error: Option<String>,
    hist: Histogram<u64>,
    window: Duration,
}

impl PhaseStats {
    fn new(window: Duration) -> Self {
        PhaseStats {
            ok_window: 0,
            ok_total: 0,
            errors: 0,
            first_error: None,
            hist: client::histogram(),
            window,
        }
    }
    fn merge(&mut self, o: PhaseStats) -> Result<(), Error> {
        self.ok_window += o.ok_window;
        self.ok_total += o.ok_total;
        self.errors += o.errors;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
        self.hist.add(&o.hist).map_err(|e| e.to_string())
    }
    fn error(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }
    fn rate(&self) -> f64 {
        self.ok_window as f64 / self.window.as_secs_f64()
    }
}

/// Sends one signed call; `Err` carries what was wrong (transport error or a non-200).
async fn call_once(conn: &mut Conn, signer: &mut FixedSigner) -> Result<(), Error> {
    let headers = signer.headers()?;
    let body = signer.call().body.clone();
    let (status, answer) = conn.post(headers, body).await?;
    if status.as_u16() == 200 {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(300)])
        ))
    }
}

/// After a transport error the connection may be gone: open a new one.
async fn recover(conn: &mut Conn, endpoint: &Endpoint, e: &str) -> Result<(), Error> {
    if e.starts_with("HTTP ") {
        return Ok(());
    }
    *conn = Conn::open(endpoint.addr).await?;
    Ok(())
}

/// Closed loop: `connections` workers, each sending its next call as soon as the last one is
/// answered, for `warmup + window`. Counts the calls answered inside the window.
async fn closed_loop(
    endpoint: &Endpoint,
    creds: &Arc<Credentials>,
    connections: usize,
    warmup: Duration,
    window: Duration,
    memo: bool,
) -> Result<PhaseStats, Error> {
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(endpoint.addr).await?);
    }
    let t0 = Instant::now();
    let from = t0 + warmup;
    let until = from + window;
    let mut tasks = Vec::with_capacity(connections);
    for mut conn in conns {
        let endpoint = endpoint.clone();
        let mut signer =
            FixedSigner::new(endpoint.clone(), creds.clone(), set_contact_address(), memo);
        tasks.push(tokio::spawn(async move {
            let mut st = PhaseStats::new(window);
            while Instant::now() < until {
                let sent = Instant::now();
                let r = call_once(&mut conn, &mut signer).await;
                let done = Instant::now();
                match r {
                    Ok(()) => {
                        st.ok_total += 1;
                        if done >= from && done <= until {
                            st.ok_window += 1;
                            client::record(&mut st.hist, done - sent);
                        }
                    }
                    Err(e) => {
                        let gone = recover(&mut conn, &endpoint, &e).await;
                        st.error(e);
                        if let Err(e) = gone {
                            st.error(e);
                            break;
                        }
                    }
                }
            }
            st
        }));
    }
    let mut total = PhaseStats::new(window);
    for t in tasks {
        total.merge(t.await.map_err(|e| e.to_string())?)?;
    }
    Ok(total)
}

/// Open loop: call `i` is due at `start + i / rate`; workers take the next due call when free.
/// Latency runs from the due time when the call goes out late (the queue counts), from the
/// actual send otherwise (the timer may fire up to 1 ms early; it never adds its own lateness).
async fn open_loop(
    endpoint: &Endpoint,
    creds: &Arc<Credentials>,
    connections: usize,
    rate: u64,
    window: Duration,
    memo: bool,
) -> Result<(PhaseStats, Duration), Error> {
    let total = rate.saturating_mul(window.as_secs()).max(1);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(endpoint.addr).await?);
    }
    let start = Instant::now() + Duration::from_millis(100);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(connections);
    for mut conn in conns {
        let endpoint = endpoint.clone();
        let next = next.clone();
        let mut signer =
            FixedSigner::new(endpoint.clone(), creds.clone(), set_contact_address(), memo);
        tasks.push(tokio::spawn(async move {
            let mut st = PhaseStats::new(window);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let due = start + Duration::from_nanos(i.saturating_mul(1_000_000_000) / rate);
                let early = due.checked_sub(Duration::from_millis(1)).unwrap_or(due);
                tokio::time::sleep_until(early.into()).await;
                let sent = Instant::now();
                let r = call_once(&mut conn, &mut signer).await;
                let done = Instant::now();
                match r {
                    Ok(()) => {
                        st.ok_total += 1;
                        st.ok_window += 1;
                        client::record(&mut st.hist, done - sent.min(due));
                    }
                    Err(e) => {
                        let gone = recover(&mut conn, &endpoint, &e).await;
                        st.error(e);
                        if let Err(e) = gone {
                            st.error(e);
                            break;
                        }
                    }
                }
            }
            st
        }));
    }
    let mut all = PhaseStats::new(window);
    for t in tasks {
        all.merge(t.await.map_err(|e| e.to_string())?)?;
    }
    let elapsed = start.elapsed();
    Ok((all, elapsed))
}

fn check(s: &mut Section, what: &str, st: &PhaseStats) {
    if st.errors > 0 {
        s.failures.push(format!(
            "{what}: {} calls did not get a 200; first: {}",
            st.errors,
            st.first_error.as_deref().unwrap_or("?")
        ));
    }
}

/// Server CPU per call over a phase, in microseconds.
fn cpu_per_call(before: Duration, after: Duration, calls: u64) -> f64 {
    after.saturating_sub(before).as_secs_f64() * 1e6 / calls.max(1) as f64
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// One round of the throughput comparison.
struct Round {
    bare: f64,
    bare_cpu: f64,
    audited: f64,
    audited_cpu: f64,
    generator_cpu: f64,
    /// The `--compare` binary's throughput and server CPU per call.
    compared: Option<(f64, f64)>,
}

pub async fn run(bin: &std::path::Path, common: &Common, args: &ApiArgs) -> Result<Section, Error> {
    let secs = args.duration.unwrap_or(if common.quick { 2 } else { 10 });
    let window = Duration::from_secs(secs.max(1));
    let warmup = Duration::from_millis(if common.quick { 500 } else { 1000 });
    let rounds = args
        .rounds
        .unwrap_or(if common.quick { 1 } else { 3 })
        .max(1);
    let conns = args.connections.max(1);
    let memo = !args.sign_every_request;
    let mut s = Section::new(&format!(
        "api: signed SetContactAddress, {conns} connections, {rounds} rounds of {secs} s phases"
    ));

    let tmp = tempfile::Builder::new()
        .prefix("billtrail-bench-api-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let data = tmp.path().join("data");
    eprintln!("api: starting {} on {}", bin.display(), data.display());
    let mut srv = server::start_billtrail(bin, &data).await?;
    let pid = srv.proc.pid();
    let compared_tmp;
    let mut compared = match &args.compare {
        Some(other) => {
            compared_tmp = tempfile::Builder::new()
                .prefix("billtrail-bench-api-compare-")
                .tempdir()
                .map_err(|e| format!("temporary directory: {e}"))?;
            let data = compared_tmp.path().join("data");
            eprintln!(
                "api: starting {} on {} to compare",
                other.display(),
                data.display()
            );
            Some(server::start_billtrail(other, &data).await?)
        }
        None => None,
    };
    let (mut bare, bare_endpoint) = server::start_bare()?;
    let bare_creds = Arc::new(Credentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    });

    // The bare axum handler (same generator, signing and body) and billtrail take turns, round
    // after round, and each round's ratio compares two phases next to each other in time: on a
    // shared 2-core machine one phase of either varies by about 10 % from the next, and this
    // pairs them instead of comparing runs minutes apart. Each phase's warm-up also lets the
    // other server's background work (WAL checkpoints) finish before it is measured.
    let mut results = Vec::with_capacity(rounds);
    let mut a = PhaseStats::new(window * rounds as u32);
    let writer0 = writer_counters(&srv.endpoint).await?;
    for round in 1..=rounds {
        eprintln!("api: round {round}/{rounds}: bare axum handler, closed loop for {secs} s");
        let cpu0 = bare.cpu()?;
        let st = closed_loop(&bare_endpoint, &bare_creds, conns, warmup, window, memo).await?;
        let bare_cpu = cpu_per_call(cpu0, bare.cpu()?, st.ok_total);
        check(&mut s, "bare axum", &st);
        let bare_rate = st.rate();

        // The compared binary goes first in every other round, so neither always follows the
        // bare handler.
        let mut other = None;
        if let Some(o) = compared.as_mut().filter(|_| round % 2 == 0) {
            other =
                Some(compare_phase(&mut s, o, round, rounds, conns, warmup, window, memo).await?);
        }
        eprintln!("api: round {round}/{rounds}: billtrail, closed loop for {secs} s");
        let (cpu0, own0) = (srv.proc.cpu()?, server::own_cpu()?);
        let st = closed_loop(&srv.endpoint, &srv.creds, conns, warmup, window, memo).await?;
        let (cpu1, own1) = (srv.proc.cpu()?, server::own_cpu()?);
        check(&mut s, "billtrail closed loop", &st);
        if let Some(o) = compared.as_mut().filter(|_| round % 2 == 1) {
            other =
                Some(compare_phase(&mut s, o, round, rounds, conns, warmup, window, memo).await?);
        }
        results.push(Round {
            bare: bare_rate,
            bare_cpu,
            audited: st.rate(),
            audited_cpu: cpu_per_call(cpu0, cpu1, st.ok_total),
            generator_cpu: cpu_per_call(own0, own1, st.ok_total),
            compared: other,
        });
        a.merge(st)?;
    }
    if let Some(mut o) = compared.take() {
        o.proc.kill9()?;
    }
    let writer1 = writer_counters(&srv.endpoint).await?;
    bare.kill9()?;
    let of = |f: fn(&Round) -> f64| median(&results.iter().map(f).collect::<Vec<_>>());
    let ratios: Vec<f64> = results
        .iter()
        .map(|r| 100.0 * r.audited / r.bare.max(1.0))
        .collect();
    s.notes.push(format!(
        "rounds (bare axum, billtrail, ratio): {}; the figures are their medians",
        results
            .iter()
            .zip(&ratios)
            .map(|(r, q)| format!("{:.0}, {:.0}, {q:.1} %", r.bare, r.audited))
            .collect::<Vec<_>>()
            .join(" | ")
    ));

    eprintln!(
        "api: billtrail, open loop at {} calls/s for {secs} s",
        args.rate
    );
    let cpu1 = srv.proc.cpu()?;
    let (c, c_elapsed) =
        open_loop(&srv.endpoint, &srv.creds, conns, args.rate, window, memo).await?;
    let cpu2 = srv.proc.cpu()?;
    check(&mut s, "billtrail open loop", &c);
    let rss = srv.proc.peak_rss()?;
    if let Some(other) = &args.compare {
        let paired: Vec<f64> = results
            .iter()
            .filter_map(|r| Some(100.0 * r.compared?.0 / r.audited.max(1.0)))
            .collect();
        s.notes.push(format!(
            "compared with {}: rounds (billtrail, compared, compared / billtrail): {}",
            other.display(),
            results
                .iter()
                .zip(&paired)
                .map(|(r, q)| format!(
                    "{:.0}, {:.0}, {q:.1} %",
                    r.audited,
                    r.compared.map_or(0.0, |c| c.0)
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
        let compared_of = |f: fn((f64, f64)) -> f64| {
            median(
                &results
                    .iter()
                    .filter_map(|r| r.compared.map(f))
                    .collect::<Vec<_>>(),
            )
        };
        s.push(Figure::new(
            "api.compared.calls_per_s",
            compared_of(|c| c.0),
            "calls/s",
        ));
        s.push(Figure::new(
            "api.compared.server_cpu_per_call",
            compared_of(|c| c.1),
            "us/call",
        ));
        s.push(Figure::new("api.compared_vs_audited", median(&paired), "%"));
    }

    // Durability and auditing: kill -9, then count what is on disk.
    srv.proc.kill9()?;
    let answered = a.ok_total + c.ok_total;
    let db = data.join("store").join("billtrail.db");
    let recorded = count_records(&db)?;
    if recorded != answered {
        s.failures.push(format!(
            "{answered} SetContactAddress calls got a 200 but {recorded} records are in {} after kill -9 of pid {pid}",
            db.display()
        ));
    }

    s.push(
        Figure::new("api.audited.calls_per_s", of(|r| r.audited), "calls/s")
            .floor(Floor::AtLeast(5000.0)),
    );
    s.push(Figure::new(
        "api.bare_axum.calls_per_s",
        of(|r| r.bare),
        "calls/s",
    ));
    s.push(Figure::new(
        "api.bare_axum.server_cpu_per_call",
        of(|r| r.bare_cpu),
        "us/call",
    ));
    s.push(Figure::new("api.audited_vs_bare", median(&ratios), "%").floor(Floor::AtLeast(25.0)));
    s.push(Figure::new(
        "api.audited_vs_bare.lowest_round",
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        "%",
    ));
    s.push(Figure::new(
        "api.audited.closed_loop.p50_ms",
        client::ms(&a.hist, 0.5),
        "ms",
    ));
    s.push(Figure::new(
        "api.audited.closed_loop.p99_ms",
        client::ms(&a.hist, 0.99),
        "ms",
    ));
    s.push(Figure::new(
        "api.audited.server_cpu_per_call",
        of(|r| r.audited_cpu),
        "us/call",
    ));
    s.push(Figure::new(
        "api.audited.jobs_per_commit",
        (writer1.1 - writer0.1) as f64 / (writer1.0 - writer0.0).max(1) as f64,
        "jobs",
    ));
    s.push(Figure::new(
        "api.audited.generator_cpu_per_call",
        of(|r| r.generator_cpu),
        "us/call",
    ));
    let r = args.rate;
    s.push(Figure::new(
        format!("api.open_{r}.achieved_calls_per_s"),
        c.ok_total as f64 / c_elapsed.as_secs_f64(),
        "calls/s",
    ));
    s.push(Figure::new(
        format!("api.open_{r}.p50_ms"),
        client::ms(&c.hist, 0.5),
        "ms",
    ));
    s.push(
        Figure::new(
            format!("api.open_{r}.p99_ms"),
            client::ms(&c.hist, 0.99),
            "ms",
        )
        .floor(Floor::AtMost(50.0)),
    );
    s.push(Figure::new(
        format!("api.open_{r}.p99_9_ms"),
        client::ms(&c.hist, 0.999),
        "ms",
    ));
    s.push(Figure::new(
        format!("api.open_{r}.max_ms"),
        c.hist.max() as f64 / 1000.0,
        "ms",
    ));
    s.push(Figure::new(
        format!("api.open_{r}.server_cpu_per_call"),
        cpu_per_call(cpu1, cpu2, c.ok_total),
        "us/call",
    ));
    s.push(Figure::new(
        "api.server_peak_rss_mb",
        rss as f64 / (1024.0 * 1024.0),
        "MB",
    ));
    s.push(Figure::new(
        "api.calls_answered_200",
        answered as f64,
        "count",
    ));
    s.push(Figure::new(
        "api.records_after_kill_9",
        recorded as f64,
        "count",
    ));
    s.notes.push(format!(
        "signing: {}; client and server share the machine's CPUs",
        if memo {
            "signed headers memoized per second (identical bytes to per-request signing)"
        } else {
            "every request signed from scratch"
        }
    ));
    drop(tmp);
    Ok(s)
}

/// One closed-loop phase against the `--compare` binary: its rate and server CPU per call.
#[allow(clippy::too_many_arguments)]
async fn compare_phase(
    s: &mut Section,
    o: &mut server::Billtrail,
    round: usize,
    rounds: usize,
    conns: usize,
    warmup: Duration,
    window: Duration,
    memo: bool,
) -> Result<(f64, f64), Error> {
    eprintln!(
        "api: round {round}/{rounds}: compared billtrail, closed loop for {} s",
        window.as_secs()
    );
    let cpu0 = o.proc.cpu()?;
    let st = closed_loop(&o.endpoint, &o.creds, conns, warmup, window, memo).await?;
    let cpu = cpu_per_call(cpu0, o.proc.cpu()?, st.ok_total);
    check(s, "compared billtrail closed loop", &st);
    Ok((st.rate(), cpu))
}

/// The store writer's `(transactions, jobs)` counters, from the server's `/metrics`.
async fn writer_counters(endpoint: &Endpoint) -> Result<(u64, u64), Error> {
    let mut conn = Conn::open(endpoint.addr).await?;
    let (status, body) = conn.get(&endpoint.host(), "/metrics").await?;
    if !status.is_success() {
        return Err(format!("GET /metrics: HTTP {status}"));
    }
    let text = String::from_utf8_lossy(&body);
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("/metrics has no {name}"))
    };
    Ok((
        counter("billtrail_store_transactions_total")?,
        counter("billtrail_store_jobs_total")?,
    ))
}

/// `SetContactAddress` records in the store, read directly with SQLite after the server is dead.
fn count_records(db: &std::path::Path) -> Result<u64, Error> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("{}: {e}", db.display()))?;
    conn.query_row(
        "SELECT count(*) FROM events WHERE event_name = 'SetContactAddress'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
    .map_err(|e| format!("counting records in {}: {e}", db.display()))
}
