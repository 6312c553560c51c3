//! Validation: what `billtrail validate` checks, over any [`ObjectStore`].
//!
//! The first part is a faithful re-implementation of awscli's `validate-logs`
//! (`awscli/customizations/cloudtrail/validation.py`, reference §3.6): the same digest listing
//! (marker at `start − 1 min`, keys of this trail only, dates in `[start, end + 1 h]`), the same
//! newest-first chain walk (follow `previousDigestS3Object`; on a missing, invalid or starting
//! digest fall back to the next older listed key), the same per-digest checks in the same
//! order, the same log file checks, and the same messages, counts and summary. So for every
//! bucket the two tools agree on what the CLI checks.
//!
//! Then what the CLI does not check:
//! * **Chain links.** Each digest's `previousDigestHashValue` must be the SHA-256 of the
//!   previous digest's uncompressed content (the CLI never reads it), its
//!   `previousDigestSignature` the previous digest's signature, and its `digestStartTime` the
//!   previous `digestEndTime`.
//! * **Runs of deleted digests.** When a digest is missing, the CLI reports it and jumps to the
//!   next older listed digest; a second deleted digest just before it goes unnoticed. The
//!   span between the two surviving digests, against the chain's cadence (the median digest
//!   length), says how many are gone; each is reported under the key it would have had.
//! * **Unreferenced log files.** Every log file in the bucket whose file-name time lies inside
//!   the span the valid digests cover (minus a slack at the span's edges, where a log file
//!   named just before a chain started or ended may legitimately belong to no digest) must be
//!   listed by some digest.
//!
//! Log files are fetched and hashed concurrently (`concurrency` at a time, the hashing on
//! blocking threads); the report keeps the CLI's order regardless.
//!
//! What this module is not: it does not find the trail or its keys. The caller passes the
//! trail's location and the region's public keys (from the store, or from `DescribeTrails` and
//! `ListPublicKeys`).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;

use billtrail_objects::{
    ListRequest, Object, ObjectError, ObjectStore, ProcessFn, Processed, MAX_KEYS,
};
use bytes::Bytes;
use futures::StreamExt as _;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::format::{
    self, digest_key_date, gunzip, is_backfill_key, parse_iso, parse_key_timestamp, sha256_hex,
    string_to_sign, GunzipError, TrailLocation, META_BACKFILL_TIMESTAMP, META_SIGNATURE,
    META_SIGNATURE_ALGORITHM,
};
use crate::keys::{self, PublicKey};

/// What to validate.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Only for the messages.
    pub trail_arn: String,
    /// Where the trail's files are for the (account, region) validated.
    pub location: TrailLocation,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    /// The region's public keys; those whose validity overlaps `[start, end + 2 h]` validate
    /// standard digests, as the CLI asks `ListPublicKeys` for.
    pub public_keys: Vec<PublicKey>,
    /// Objects fetched and hashed at once.
    pub concurrency: usize,
    /// Seconds at each edge of a covered span in which an unreferenced log file is tolerated.
    pub edge_slack: i64,
    /// Advanced by the compressed bytes of each log file checked. Hidden by default.
    pub progress: indicatif::ProgressBar,
}

impl ValidateOptions {
    pub fn new(
        trail_arn: String,
        location: TrailLocation,
        start: OffsetDateTime,
        end: OffsetDateTime,
        public_keys: Vec<PublicKey>,
    ) -> Self {
        ValidateOptions {
            trail_arn,
            location,
            start,
            end,
            public_keys,
            concurrency: 16,
            edge_slack: 120,
            progress: indicatif::ProgressBar::hidden(),
        }
    }
}

/// Why validation could not run at all (as opposed to finding invalid files).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("Invalid time range specified: start-time must occur before end-time")]
    TimeRange,
    #[error("No public keys found between {0} and {1}")]
    NoPublicKeys(String, String),
    /// The bucket could not be read (other than a missing object).
    #[error("{0}")]
    Objects(#[from] ObjectError),
}

/// One status line, written the way the CLI writes it: errors to stderr, the rest to stdout
/// with `--verbose` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The outcome: the CLI's counts and lines, and the extra checks'.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub trail_arn: String,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    pub lines: Vec<Status>,
    pub valid_digests: usize,
    pub invalid_digests: usize,
    pub valid_backfill_digests: usize,
    pub invalid_backfill_digests: usize,
    pub valid_logs: usize,
    pub invalid_logs: usize,
    pub found_start: Option<OffsetDateTime>,
    pub found_end: Option<OffsetDateTime>,
    /// Extra: chain links checked (a valid digest's pointer to its predecessor), and failed.
    pub links_valid: usize,
    pub links_invalid: usize,
    /// Extra: deleted digests inferred from the chain's cadence (also in `invalid_digests`).
    pub inferred_missing_digests: usize,
    /// Extra: log files in the bucket inside the covered span, and those no digest lists.
    pub bucket_logs_checked: usize,
    pub bucket_logs_unreferenced: usize,
}

impl Report {
    /// True when nothing is invalid.
    pub fn is_valid(&self) -> bool {
        self.invalid_digests == 0
            && self.invalid_backfill_digests == 0
            && self.invalid_logs == 0
            && self.links_invalid == 0
            && self.bucket_logs_unreferenced == 0
    }

    /// Writes the report as the CLI does: the start line, the statuses and the summary, then
    /// the extra checks' counts.
    pub fn write(
        &self,
        out: &mut dyn Write,
        err: &mut dyn Write,
        verbose: bool,
    ) -> std::io::Result<()> {
        let (start, end) = (
            self.start.map(display_date).unwrap_or_default(),
            self.end.map(display_date).unwrap_or_default(),
        );
        write!(
            out,
            "Validating log files for trail {} between {start} and {end}\n\n",
            self.trail_arn
        )?;
        let mut double_space = true;
        for s in &self.lines {
            if s.error {
                if double_space {
                    write!(err, "{}\n\n", s.text)?;
                } else {
                    write!(err, "\n{}\n\n", s.text)?;
                }
                double_space = true;
            } else if verbose {
                double_space = false;
                writeln!(out, "{}", s.text)?;
            }
        }
        if !double_space {
            writeln!(out)?;
        }
        writeln!(out, "Results requested for {start} to {end}")?;
        let total_valid = self.valid_digests + self.valid_backfill_digests;
        let total_invalid = self.invalid_digests + self.invalid_backfill_digests;
        if total_valid == 0 && total_invalid == 0 {
            writeln!(out, "No digests found")?;
            return self.write_extra(out);
        }
        match (self.found_start, self.found_end) {
            (Some(s), Some(e)) => writeln!(
                out,
                "Results found for {} to {}:",
                display_date(s),
                display_date(e)
            )?,
            _ => writeln!(out, "No valid digests found in range")?,
        }
        ratio(out, self.valid_digests, self.invalid_digests, "digest")?;
        ratio(
            out,
            self.valid_backfill_digests,
            self.invalid_backfill_digests,
            "backfill digest",
        )?;
        ratio(out, self.valid_logs, self.invalid_logs, "log")?;
        writeln!(out)?;
        self.write_extra(out)
    }

    /// The checks beyond the CLI's, one line each when they checked anything.
    fn write_extra(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let links = self.links_valid + self.links_invalid;
        let logs = self.bucket_logs_checked;
        if links == 0 && logs == 0 {
            return Ok(());
        }
        write!(out, "\nBeyond aws cloudtrail validate-logs:")?;
        if links > 0 {
            write!(
                out,
                "\n{}/{links} digest chain links valid",
                self.links_valid
            )?;
            if self.links_invalid > 0 {
                write!(
                    out,
                    ", {}/{links} digest chain links INVALID",
                    self.links_invalid
                )?;
            }
        }
        if logs > 0 {
            let referenced = logs - self.bucket_logs_unreferenced.min(logs);
            write!(
                out,
                "\n{referenced}/{logs} log files in the bucket referenced by a digest"
            )?;
            if self.bucket_logs_unreferenced > 0 {
                write!(
                    out,
                    ", {}/{logs} log files in the bucket UNREFERENCED",
                    self.bucket_logs_unreferenced
                )?;
            }
        }
        writeln!(out)
    }
}

fn ratio(out: &mut dyn Write, valid: usize, invalid: usize, name: &str) -> std::io::Result<()> {
    let total = valid + invalid;
    if total > 0 {
        write!(out, "\n{valid}/{total} {name} files valid")?;
        if invalid > 0 {
            write!(out, ", {invalid}/{total} {name} files INVALID")?;
        }
    }
    Ok(())
}

/// `%Y-%m-%dT%H:%M:%SZ`, the CLI's display format.
pub fn display_date(t: OffsetDateTime) -> String {
    format::iso_time(t)
}

/// A digest that passed every check the CLI makes.
#[derive(Debug, Clone)]
struct ValidDigest {
    bucket: String,
    key: String,
    json: Map<String, Value>,
    start: OffsetDateTime,
    end: OffsetDateTime,
}

/// A digest object as fetched.
#[derive(Debug, Clone)]
struct Fetched {
    body: Bytes,
    /// `signature`, when `signature-algorithm` is there too (the CLI requires both).
    signature: Option<String>,
    backfill_timestamp: Option<String>,
}

fn fetched(r: Result<Object, ObjectError>) -> Result<Option<Fetched>, ValidateError> {
    match r {
        Ok(o) => {
            let m = &o.meta.metadata;
            let signature = match (m.get(META_SIGNATURE), m.get(META_SIGNATURE_ALGORITHM)) {
                (Some(s), Some(_)) => Some(s.clone()),
                _ => None,
            };
            Ok(Some(Fetched {
                signature,
                backfill_timestamp: m.get(META_BACKFILL_TIMESTAMP).cloned(),
                body: o.body,
            }))
        }
        Err(ObjectError::NoSuchKey(_)) => Ok(None),
        Err(e) => Err(ValidateError::Objects(e)),
    }
}

/// Why a digest failed: the CLI's "not found", or a full "INVALID" line.
enum DigestFail {
    Missing,
    Invalid(String),
}

/// A status line, or a log file check whose line is written once the file is hashed.
enum Pending {
    Done(Status),
    Log {
        bucket: String,
        key: String,
        expected: String,
    },
}

/// The outcome of fetching and hashing one log file.
#[derive(Debug, Clone)]
enum LogHash {
    Hash(String),
    NotFound,
    Invalid,
    Trailing,
    /// Ends early: the CLI's inflater hashes what it got, so the hash does not match.
    Truncated,
    Failed(String),
}

struct Run<'a> {
    store: &'a dyn ObjectStore,
    opts: &'a ValidateOptions,
    /// Digest objects fetched so far; `None` = no such key.
    fetched: HashMap<(String, String), Option<Fetched>>,
    lines: Vec<Pending>,
    report: Report,
    /// Standard digests that passed, in walk order (newest first).
    valid: Vec<ValidDigest>,
    /// Backfill digests that passed.
    valid_backfill: Vec<ValidDigest>,
    /// Every digest that parsed, valid or not: (bucket, key) → JSON.
    parsed: HashMap<(String, String), Map<String, Value>>,
    /// Missing digests reached through a valid digest's pointer, with the key the walk tried
    /// next: (bucket, missing key, next key).
    missing_links: Vec<(String, String, Option<String>)>,
}

/// Validates a trail's digests and log files between `opts.start` and `opts.end`.
pub async fn validate(
    store: &dyn ObjectStore,
    opts: &ValidateOptions,
) -> Result<Report, ValidateError> {
    if opts.start > opts.end {
        return Err(ValidateError::TimeRange);
    }
    let mut run = Run {
        store,
        opts,
        fetched: HashMap::new(),
        lines: Vec::new(),
        report: Report {
            trail_arn: opts.trail_arn.clone(),
            start: Some(opts.start),
            end: Some(opts.end),
            ..Report::default()
        },
        valid: Vec::new(),
        valid_backfill: Vec::new(),
        parsed: HashMap::new(),
        missing_links: Vec::new(),
    };
    run.traverse(false).await?;
    run.traverse(true).await?;
    // Hashing the log files and listing the bucket's log files go on at once.
    let spans = run.covered_spans();
    let (store, listing_opts) = (run.store, run.opts);
    let (_, listed) = tokio::join!(
        run.check_logs(),
        list_covered_logs(store, listing_opts, &spans)
    );
    run.check_links();
    run.check_missing_runs();
    run.check_unreferenced(listed?);
    let Run {
        mut report, lines, ..
    } = run;
    report.lines = lines
        .into_iter()
        .filter_map(|p| match p {
            Pending::Done(s) => Some(s),
            Pending::Log { .. } => None,
        })
        .collect();
    Ok(report)
}

impl Run<'_> {
    fn push(&mut self, text: String, error: bool) {
        self.lines.push(Pending::Done(Status { text, error }));
    }

    fn location_in(&self, bucket: &str) -> TrailLocation {
        TrailLocation {
            bucket: bucket.to_string(),
            ..self.opts.location.clone()
        }
    }

    /// The digest keys of this trail in `bucket` dated within `[start, end + 1 h]`, oldest
    /// first, split into (standard, backfill), exactly as the CLI lists them: one listing from
    /// the key the trail would have had a minute before `start`, stopping at the first key
    /// dated after `end + 1 h`.
    async fn list_digests(
        &self,
        bucket: &str,
    ) -> Result<(Vec<String>, Vec<String>), ValidateError> {
        let loc = self.location_in(bucket);
        let prefix = loc.digest_prefix();
        let target_start = format::key_timestamp(self.opts.start);
        let target_end = format::key_timestamp(self.opts.end + time::Duration::hours(1));
        let (mut standard, mut backfill) = (Vec::new(), Vec::new());
        let mut after = loc.digest_key(self.opts.start - time::Duration::minutes(1));
        'pages: loop {
            let page = self
                .store
                .list(
                    bucket,
                    &ListRequest {
                        prefix: &prefix,
                        delimiter: None,
                        start_after: Some(&after),
                        max_keys: MAX_KEYS,
                    },
                )
                .await?;
            let next = page.last_entry().map(str::to_string);
            for o in page.objects {
                if !loc.is_digest_key(&o.key) {
                    continue;
                }
                let Some(date) = digest_key_date(&o.key) else {
                    continue;
                };
                if date > target_end.as_str() {
                    break 'pages;
                }
                if date < target_start.as_str() || parse_key_timestamp(date).is_none() {
                    continue;
                }
                if is_backfill_key(&o.key) {
                    backfill.push(o.key);
                } else {
                    standard.push(o.key);
                }
            }
            match next {
                Some(n) if page.truncated => after = n,
                _ => break,
            }
        }
        Ok((standard, backfill))
    }

    /// Fetches the digests of `keys` not fetched yet, concurrently.
    async fn prefetch(&mut self, bucket: &str, keys: &[String]) -> Result<(), ValidateError> {
        let todo: Vec<String> = keys
            .iter()
            .filter(|k| {
                !self
                    .fetched
                    .contains_key(&(bucket.to_string(), (*k).clone()))
            })
            .cloned()
            .collect();
        let store = self.store;
        let results: Vec<(String, Result<Object, ObjectError>)> =
            futures::stream::iter(todo.into_iter().map(|k| async move {
                let r = store.get(bucket, &k).await;
                (k, r)
            }))
            .buffer_unordered(self.opts.concurrency.max(1))
            .collect()
            .await;
        for (k, r) in results {
            let v = fetched(r)?;
            self.fetched.insert((bucket.to_string(), k), v);
        }
        Ok(())
    }

    async fn fetch(&mut self, bucket: &str, key: &str) -> Result<Option<Fetched>, ValidateError> {
        let id = (bucket.to_string(), key.to_string());
        if let Some(f) = self.fetched.get(&id) {
            return Ok(f.clone());
        }
        let v = fetched(self.store.get(bucket, key).await)?;
        self.fetched.insert(id, v.clone());
        Ok(v)
    }

    /// The CLI's `traverse_digests` for one kind of digest: newest first, following the chain.
    async fn traverse(&mut self, backfill: bool) -> Result<(), ValidateError> {
        let opts = self.opts;
        let tag = if backfill { "(backfill) " } else { "" };
        let mut bucket = opts.location.bucket.clone();
        let pick = |(s, b): (Vec<String>, Vec<String>)| if backfill { b } else { s };
        let mut digests = pick(self.list_digests(&bucket).await?);
        self.prefetch(&bucket, &digests).await?;
        let mut public_keys: HashMap<String, PublicKey> = HashMap::new();
        if !backfill {
            let (from, to) = (opts.start, opts.end + time::Duration::hours(2));
            public_keys = keys_between(&opts.public_keys, from, to);
            if public_keys.is_empty() {
                return Err(ValidateError::NoPublicKeys(
                    display_date(from),
                    display_date(to),
                ));
            }
        }
        let (mut key, end_date) = last_digest(&mut digests, None);
        let mut last_start = end_date;
        while let (Some(k), Some(ls)) = (key.clone(), last_start) {
            if opts.start > ls {
                break;
            }
            match self
                .load_and_validate(&bucket, &k, &mut public_keys, backfill)
                .await?
            {
                Ok(d) => {
                    last_start = Some(d.start);
                    self.track_found_times(&d);
                    if backfill {
                        self.report.valid_backfill_digests += 1;
                    } else {
                        self.report.valid_digests += 1;
                    }
                    let text = format!(
                        "{tag}Digest file\ts3://{}/{}\tvalid",
                        value_text(d.json.get("digestS3Bucket")),
                        value_text(d.json.get("digestS3Object"))
                    );
                    self.push(text, false);
                    self.queue_logs(&d);
                    let previous_bucket = d.json.get("previousDigestS3Bucket").and_then(non_null);
                    let previous_key = d.json.get("previousDigestS3Object").and_then(non_null);
                    if backfill {
                        self.valid_backfill.push(d);
                    } else {
                        self.valid.push(d);
                    }
                    match (previous_bucket, previous_key) {
                        (Some(pb), Some(pk)) => {
                            key = Some(pk);
                            if pb != bucket {
                                bucket = pb;
                                digests = pick(self.list_digests(&bucket).await?);
                                self.prefetch(&bucket, &digests).await?;
                            }
                        }
                        _ => {
                            // A starting digest: the chain is broken, find the next listed.
                            let (next, next_end) = last_digest(&mut digests, Some(&k));
                            if let (Some(_), Some(ne), Some(ls)) = (&next, next_end, last_start) {
                                self.push(
                                    format!(
                                        "{tag}No log files were delivered by CloudTrail between {} and {}",
                                        display_date(ne),
                                        display_date(ls)
                                    ),
                                    true,
                                );
                            }
                            key = next;
                        }
                    }
                }
                Err(fail) => {
                    if backfill {
                        self.report.invalid_backfill_digests += 1;
                    } else {
                        self.report.invalid_digests += 1;
                    }
                    let (next, _) = last_digest(&mut digests, Some(&k));
                    match fail {
                        DigestFail::Missing => {
                            self.push(
                                format!("{tag}Digest file\ts3://{bucket}/{k}\tINVALID: not found"),
                                true,
                            );
                            let pointed = if backfill {
                                self.valid_backfill.last()
                            } else {
                                self.valid.last()
                            }
                            .is_some_and(|v| {
                                v.json.get("previousDigestS3Object").and_then(Value::as_str)
                                    == Some(k.as_str())
                            });
                            if pointed && !backfill {
                                self.missing_links
                                    .push((bucket.clone(), k.clone(), next.clone()));
                            }
                        }
                        DigestFail::Invalid(msg) => self.push(format!("{tag}{msg}"), true),
                    }
                    key = next;
                }
            }
        }
        Ok(())
    }

    fn track_found_times(&mut self, d: &ValidDigest) {
        let start = d.start.max(self.opts.start);
        if self.report.found_start.is_none_or(|f| start < f) {
            self.report.found_start = Some(start);
        }
        let end = d.end.min(self.opts.end);
        if self.report.found_end.is_none_or(|f| end > f) {
            self.report.found_end = Some(end);
        }
    }

    /// The CLI's `fetch_digest` and `_load_and_validate_digest`, in its order, with the
    /// outcome instead of exceptions.
    async fn load_and_validate(
        &mut self,
        bucket: &str,
        key: &str,
        public_keys: &mut HashMap<String, PublicKey>,
        backfill: bool,
    ) -> Result<Result<ValidDigest, DigestFail>, ValidateError> {
        let Some(f) = self.fetch(bucket, key).await? else {
            return Ok(Err(DigestFail::Missing));
        };
        let at = format!("Digest file\ts3://{bucket}/{key}\tINVALID: ");
        let fail = |what: &str| Ok(Err(DigestFail::Invalid(format!("{at}{what}"))));
        let Ok(inflated) = gunzip_first_member(&f.body) else {
            return fail("invalid format");
        };
        let Ok(parsed) = std::str::from_utf8(&inflated)
            .map_err(|_| ())
            .and_then(|t| serde_json::from_str::<Value>(t).map_err(|_| ()))
        else {
            return fail("invalid format");
        };
        let Some(signature) = f.signature.clone() else {
            return fail("signature verification failed");
        };
        if is_backfill_key(key) && f.backfill_timestamp.is_none() {
            return fail("invalid format");
        }
        let Value::Object(json) = parsed else {
            return fail("invalid format");
        };
        self.parsed
            .insert((bucket.to_string(), key.to_string()), json.clone());
        for required in [
            "digestPublicKeyFingerprint",
            "digestS3Bucket",
            "digestS3Object",
            "previousDigestSignature",
            "digestEndTime",
            "digestStartTime",
        ] {
            if !json.contains_key(required) {
                return fail("invalid format");
            }
        }
        if json.get("digestS3Bucket").and_then(Value::as_str) != Some(bucket)
            || json.get("digestS3Object").and_then(Value::as_str) != Some(key)
        {
            return fail("has been moved from its original location");
        }
        let fingerprint = value_text(json.get("digestPublicKeyFingerprint"));
        if backfill && !public_keys.contains_key(&fingerprint) {
            let ts_text = f.backfill_timestamp.clone().unwrap_or_default();
            let Some(ts) = parse_iso(&ts_text) else {
                return fail(&format!("Unable to parse date value: {ts_text}"));
            };
            let (from, to) = (ts - time::Duration::hours(1), ts + time::Duration::hours(1));
            let more = keys_between(&self.opts.public_keys, from, to);
            if more.is_empty() {
                return Err(ValidateError::NoPublicKeys(
                    display_date(from),
                    display_date(to),
                ));
            }
            public_keys.extend(more);
        }
        let Some(public_key) = public_keys.get(&fingerprint) else {
            return fail(&format!(
                "public key not found in region {} for fingerprint {fingerprint}",
                self.opts.location.home_region
            ));
        };
        let previous_signature = match json.get("previousDigestSignature") {
            None | Some(Value::Null) => None,
            v => Some(value_text(v)),
        };
        let to_sign = string_to_sign(
            &value_text(json.get("digestEndTime")),
            &value_text(json.get("digestS3Bucket")),
            &value_text(json.get("digestS3Object")),
            &sha256_hex(&inflated),
            previous_signature.as_deref(),
        );
        let Ok(signature_bytes) = hex::decode(&signature) else {
            return fail("Non-hexadecimal digit found");
        };
        match keys::verify(&public_key.value, &to_sign, &signature_bytes) {
            Err(_) => {
                return fail(&format!(
                    "Unable to load PKCS #1 key with fingerprint {fingerprint}"
                ))
            }
            Ok(false) => return fail("signature verification failed"),
            Ok(true) => {}
        }
        let end_text = value_text(json.get("digestEndTime"));
        let Some(end) = parse_iso(&end_text) else {
            return fail(&format!("Unable to parse date value: {end_text}"));
        };
        let start_text = value_text(json.get("digestStartTime"));
        let Some(start) = parse_iso(&start_text) else {
            return fail(&format!("Unable to parse date value: {start_text}"));
        };
        // The CLI indexes `logFiles` directly (a digest without it stops the CLI); here it is
        // an invalid digest.
        if !json.get("logFiles").is_some_and(Value::is_array) {
            return fail("invalid format");
        }
        Ok(Ok(ValidDigest {
            bucket: bucket.to_string(),
            key: key.to_string(),
            json,
            start,
            end,
        }))
    }

    /// Queues the log file checks of a valid digest, in its order.
    fn queue_logs(&mut self, d: &ValidDigest) {
        let entries = d
            .json
            .get("logFiles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for entry in entries {
            let bucket = entry.get("s3Bucket").and_then(Value::as_str);
            let key = entry.get("s3Object").and_then(Value::as_str);
            match (bucket, key) {
                (Some(b), Some(k)) => self.lines.push(Pending::Log {
                    bucket: b.to_string(),
                    key: k.to_string(),
                    expected: value_text(entry.get("hashValue")),
                }),
                _ => {
                    self.report.invalid_logs += 1;
                    self.push(
                        format!(
                            "Log file\ts3://{}/{}\tINVALID: invalid format",
                            value_text(entry.get("s3Bucket")),
                            value_text(entry.get("s3Object"))
                        ),
                        true,
                    );
                }
            }
        }
    }

    /// Fetches and hashes every queued log file (each distinct file once, concurrently), then
    /// writes their lines in the CLI's order.
    async fn check_logs(&mut self) {
        let mut unique: Vec<(String, String)> = Vec::new();
        let mut seen = HashSet::new();
        for p in &self.lines {
            if let Pending::Log { bucket, key, .. } = p {
                if seen.insert((bucket.clone(), key.clone())) {
                    unique.push((bucket.clone(), key.clone()));
                }
            }
        }
        let progress = self.opts.progress.clone();
        progress.set_length(unique.len() as u64);
        let store = self.store;
        // A few dozen files per fetch-and-hash step (one blocking task for a local bucket),
        // several steps at once.
        let mut chunks: Vec<(String, Vec<String>)> = Vec::new();
        for (bucket, key) in unique {
            match chunks.last_mut() {
                Some((b, keys)) if *b == bucket && keys.len() < HASH_CHUNK => keys.push(key),
                _ => chunks.push((bucket, vec![key])),
            }
        }
        let hash: ProcessFn = Arc::new(|_key, got| Box::new(hash_object(got)) as Processed);
        let hashes: HashMap<(String, String), LogHash> =
            futures::stream::iter(chunks.into_iter().map(|(bucket, keys)| {
                let (progress, hash) = (progress.clone(), hash.clone());
                async move {
                    let made = store.get_each(&bucket, keys.clone(), hash).await;
                    progress.inc(keys.len() as u64);
                    let mut made = made.into_iter();
                    keys.into_iter()
                        .map(|k| {
                            let h = made
                                .next()
                                .and_then(|m| m.downcast::<LogHash>().ok())
                                .map(|h| *h)
                                .unwrap_or_else(|| LogHash::Failed("not hashed".into()));
                            ((bucket.clone(), k), h)
                        })
                        .collect::<Vec<_>>()
                }
            }))
            .buffer_unordered(self.opts.concurrency.max(1))
            .flat_map(futures::stream::iter)
            .collect()
            .await;
        progress.finish_and_clear();
        let lines = std::mem::take(&mut self.lines);
        for p in lines {
            let Pending::Log {
                bucket,
                key,
                expected,
            } = p
            else {
                self.lines.push(p);
                continue;
            };
            let at = format!("Log file\ts3://{bucket}/{key}\t");
            let outcome = match hashes.get(&(bucket, key)) {
                Some(LogHash::Hash(h)) if *h == expected => None,
                Some(LogHash::Hash(_)) | Some(LogHash::Truncated) => {
                    Some("INVALID: hash value doesn't match".to_string())
                }
                Some(LogHash::NotFound) => Some("INVALID: not found".to_string()),
                Some(LogHash::Trailing) => {
                    Some("INVALID: unexpected data after end of compressed stream".to_string())
                }
                Some(LogHash::Invalid) | None => Some("INVALID: invalid format".to_string()),
                Some(LogHash::Failed(e)) => Some(format!("INVALID: {e}")),
            };
            match outcome {
                None => {
                    self.report.valid_logs += 1;
                    self.push(format!("{at}valid"), false);
                }
                Some(why) => {
                    self.report.invalid_logs += 1;
                    self.push(format!("{at}{why}"), true);
                }
            }
        }
    }

    /// Extra: each followed pointer of a valid digest must match the digest it points to.
    fn check_links(&mut self) {
        let valid = std::mem::take(&mut self.valid);
        for d in &valid {
            let (Some(pb), Some(pk)) = (
                d.json.get("previousDigestS3Bucket").and_then(non_null),
                d.json.get("previousDigestS3Object").and_then(non_null),
            ) else {
                continue;
            };
            let previous = match self.fetched.get(&(pb.clone(), pk.clone())) {
                // Not followed (before the requested range).
                None => continue,
                // Missing: the walk has reported it.
                Some(None) => {
                    self.report.links_invalid += 1;
                    continue;
                }
                Some(Some(f)) => f.clone(),
            };
            let at = format!("Digest file\ts3://{}/{}\tINVALID: ", d.bucket, d.key);
            let target = format!("s3://{pb}/{pk}");
            let mut problems = Vec::new();
            match gunzip_first_member(&previous.body) {
                Ok(inflated) => {
                    let actual = sha256_hex(&inflated);
                    let claimed = value_text(d.json.get("previousDigestHashValue"));
                    if !claimed.eq_ignore_ascii_case(&actual) {
                        problems.push(format!("previousDigestHashValue doesn't match {target}"));
                    }
                }
                Err(_) => problems.push(format!("previous digest {target} is unreadable")),
            }
            if d.json
                .get("previousDigestHashAlgorithm")
                .and_then(Value::as_str)
                != Some(format::HASH_ALGORITHM)
            {
                problems.push("previousDigestHashAlgorithm is not SHA-256".to_string());
            }
            let claimed_sig = value_text(d.json.get("previousDigestSignature"));
            if !previous
                .signature
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(&claimed_sig))
            {
                problems.push(format!("previousDigestSignature doesn't match {target}"));
            }
            if let Some(p) = self.parsed.get(&(pb.clone(), pk.clone())) {
                if p.get("digestEndTime") != d.json.get("digestStartTime") {
                    problems.push(format!(
                        "digestStartTime is not the digestEndTime of {target}"
                    ));
                }
            }
            if problems.is_empty() {
                self.report.links_valid += 1;
            } else {
                self.report.links_invalid += 1;
                for p in problems {
                    self.push(format!("{at}{p}"), true);
                }
            }
        }
        self.valid = valid;
    }

    /// Extra: a deleted digest that the walk skipped past may hide more deleted before it.
    /// The chain's cadence (median length of its digests) says how many digests the span
    /// between the missing one and the next surviving one held.
    fn check_missing_runs(&mut self) {
        let mut lengths: Vec<i64> = self
            .valid
            .iter()
            .map(|d| (d.end - d.start).whole_seconds())
            .filter(|s| *s > 0)
            .collect();
        if lengths.is_empty() {
            return;
        }
        lengths.sort_unstable();
        let cadence = lengths.get(lengths.len() / 2).copied().unwrap_or(1).max(1);
        for (bucket, missing, next) in std::mem::take(&mut self.missing_links) {
            let Some(missing_end) = digest_key_date(&missing).and_then(parse_key_timestamp) else {
                continue;
            };
            let Some(next) = next else { continue };
            let next_end = self
                .parsed
                .get(&(bucket.clone(), next.clone()))
                .and_then(|j| j.get("digestEndTime"))
                .and_then(Value::as_str)
                .and_then(parse_iso)
                .or_else(|| digest_key_date(&next).and_then(parse_key_timestamp));
            let Some(next_end) = next_end else { continue };
            let span = (missing_end - next_end).whole_seconds();
            let count = (span + cadence / 2) / cadence;
            let loc = self.location_in(&bucket);
            for i in 1..count {
                let t = next_end + time::Duration::seconds(i * cadence);
                let key = loc.digest_key(t);
                self.report.invalid_digests += 1;
                self.report.inferred_missing_digests += 1;
                self.push(
                    format!(
                        "Digest file\ts3://{bucket}/{key}\tINVALID: not found (inferred: no digest links to s3://{bucket}/{next})"
                    ),
                    true,
                );
            }
        }
    }

    /// The spans the valid digests cover, merged where they touch, oldest first.
    fn covered_spans(&self) -> Vec<(OffsetDateTime, OffsetDateTime)> {
        let mut spans: Vec<(OffsetDateTime, OffsetDateTime)> = self
            .valid
            .iter()
            .chain(&self.valid_backfill)
            .map(|d| (d.start, d.end))
            .collect();
        spans.sort();
        let mut merged: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 + time::Duration::seconds(1) => {
                    last.1 = last.1.max(e);
                }
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    /// Extra: of the bucket's log files inside the covered spans (`listed`), those no digest
    /// lists.
    fn check_unreferenced(&mut self, listed: Vec<String>) {
        let referenced: HashSet<(&str, &str)> = self
            .parsed
            .values()
            .filter_map(|j| j.get("logFiles").and_then(Value::as_array))
            .flatten()
            .filter_map(|e| Some((e.get("s3Bucket")?.as_str()?, e.get("s3Object")?.as_str()?)))
            .collect();
        let bucket = self.opts.location.bucket.clone();
        let unreferenced: Vec<String> = listed
            .iter()
            .filter(|k| !referenced.contains(&(bucket.as_str(), k.as_str())))
            .cloned()
            .collect();
        self.report.bucket_logs_checked += listed.len();
        self.report.bucket_logs_unreferenced += unreferenced.len();
        for key in unreferenced {
            self.push(
                format!("Log file\ts3://{bucket}/{key}\tINVALID: not referenced by any digest"),
                true,
            );
        }
    }
}

/// The log files of the trail's bucket whose file-name time lies inside `spans` (less the
/// edge slack) and inside the requested range, in key order.
async fn list_covered_logs(
    store: &dyn ObjectStore,
    opts: &ValidateOptions,
    spans: &[(OffsetDateTime, OffsetDateTime)],
) -> Result<Vec<String>, ValidateError> {
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return Ok(Vec::new());
    };
    let from = first.0.max(opts.start);
    let to = last.1.min(opts.end);
    if from > to {
        return Ok(Vec::new());
    }
    let loc = &opts.location;
    let prefix = loc.log_prefix();
    let name_prefix = format!("{}_CloudTrail_{}_", loc.account_id, loc.region);
    let stop_folder = format::ymd_path(to + time::Duration::days(1));
    let mut after = format!(
        "{prefix}{}",
        format::ymd_path(from - time::Duration::days(1))
    );
    let slack = time::Duration::seconds(opts.edge_slack.max(0));
    let mut found = Vec::new();
    'pages: loop {
        let page = store
            .list(
                &loc.bucket,
                &ListRequest {
                    prefix: &prefix,
                    delimiter: None,
                    start_after: Some(&after),
                    max_keys: MAX_KEYS,
                },
            )
            .await?;
        let next = page.last_entry().map(str::to_string);
        for o in page.objects {
            let rest = o.key.get(prefix.len()..).unwrap_or_default();
            if rest
                .get(..10)
                .is_some_and(|folder| folder > stop_folder.as_str())
            {
                break 'pages;
            }
            let name = rest.rsplit('/').next().unwrap_or_default();
            let Some(t) = name
                .strip_prefix(&name_prefix)
                .and_then(|r| r.get(..14))
                .and_then(parse_log_timestamp)
            else {
                continue;
            };
            if t < from || t > to {
                continue;
            }
            let inside = spans
                .iter()
                .any(|(s, e)| *s + slack <= t && t + time::Duration::seconds(60) + slack <= *e);
            if inside {
                found.push(o.key);
            }
        }
        match next {
            Some(n) if page.truncated => after = n,
            _ => break,
        }
    }
    Ok(found)
}

/// Log files fetched and hashed per step of [`Run::check_logs`].
const HASH_CHUNK: usize = 32;

/// Hashes one fetched log file's content (runs off the async threads).
fn hash_object(got: Result<Object, ObjectError>) -> LogHash {
    match got {
        Ok(o) => match format::gunzip_sha256_hex_fast(&o.body) {
            Ok(h) => LogHash::Hash(h),
            Err(GunzipError::TrailingData) => LogHash::Trailing,
            Err(GunzipError::Truncated) => LogHash::Truncated,
            Err(GunzipError::Invalid) => LogHash::Invalid,
        },
        Err(ObjectError::NoSuchKey(_)) => LogHash::NotFound,
        Err(e) => LogHash::Failed(e.to_string()),
    }
}

/// Inflates the first gzip member, ignoring anything after it, as the CLI's one-shot
/// `zlib.decompress` does for digests.
fn gunzip_first_member(body: &[u8]) -> Result<Vec<u8>, GunzipError> {
    match gunzip(body) {
        Err(GunzipError::TrailingData) => {
            use std::io::Read as _;
            let mut out = Vec::new();
            flate2::bufread::GzDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|_| GunzipError::Invalid)?;
            Ok(out)
        }
        other => other,
    }
}

/// `YYYYMMDDTHHmmZ` of a log file name.
fn parse_log_timestamp(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 14 || b.get(13) != Some(&b'Z') {
        return None;
    }
    parse_key_timestamp(&format!("{}00Z", s.get(..13)?))
}

/// The region's keys whose validity overlaps `[from, to]`, by fingerprint.
fn keys_between(
    keys: &[PublicKey],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> HashMap<String, PublicKey> {
    let (from, to) = (from.unix_timestamp(), to.unix_timestamp());
    keys.iter()
        .filter(|k| k.validity_start <= to && k.validity_end >= from)
        .map(|k| (k.fingerprint.clone(), k.clone()))
        .collect()
}

/// The CLI's `_get_last_digest`: the newest listed key, or the newest dated before `before`.
fn last_digest(
    digests: &mut Vec<String>,
    before: Option<&str>,
) -> (Option<String>, Option<OffsetDateTime>) {
    let date = |k: &str| digest_key_date(k).and_then(parse_key_timestamp);
    match before {
        None => match digests.pop() {
            Some(k) => {
                let d = date(&k);
                (Some(k), d)
            }
            None => (None, None),
        },
        Some(before) => {
            let Some(before_date) = date(before) else {
                return (None, None);
            };
            while let Some(k) = digests.pop() {
                if let Some(d) = date(&k).filter(|d| *d < before_date) {
                    return (Some(k), Some(d));
                }
            }
            (None, None)
        }
    }
}

/// A JSON value as Python's f-string shows the decoded value.
fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "None".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "True".to_string(),
        Some(Value::Bool(false)) => "False".to_string(),
        Some(other) => other.to_string(),
    }
}

/// `dict.get(k)` in Python: `None` for JSON null.
fn non_null(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        other => Some(value_text(Some(other))),
    }
}
