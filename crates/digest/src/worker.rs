//! [`digest_once`]: one digest step for every chain.
//!
//! A **chain** is the sequence of digests of one (trail, account, region). Its state
//! ([`ChainState`], at `Key::global("digest_chain", "{arn}|{account}|{region}")`) says where
//! the next digest starts, when it is due, and what it links to. A chain exists for the trail's
//! own account in its home region from the moment the trail logs with validation on, and for
//! every other (account, region) from the first log file delivered there (organization
//! members, other regions of a multi-region trail).
//!
//! One step, for every chain:
//! * **Active, trail logging with validation on, due** (`now ≥ end`): write the digest of
//!   `[start, end]` with every delivered log file not yet sealed whose delivery committed by
//!   `end`, even none (an empty digest), then `start = end`, `end += interval`. A chain that
//!   fell behind (the server was down) catches up one interval at a time, so digests keep the
//!   chain's cadence.
//! * **Active, but the trail stopped logging, turned validation off, or was deleted**: a
//!   **final digest** of `[start, now]` with everything left, once delivery has flushed the
//!   records up to `StopLogging` (AWS: the final digest covers logs up to and including the
//!   `StopLogging` event). The chain then ends: the next digest, when logging or validation
//!   resumes, is a **starting digest** with every `previousDigest*` field `null`. AWS says the
//!   chain breaks "after one hour" when validation is turned off; billtrail seals the final
//!   digest at once, so that it covers exactly the period validation was on.
//! * **Inactive or new, trail logging with validation on**: the chain starts now (or at its
//!   first unsealed delivery, if earlier), due one interval later.
//! * **Inactive, but delivered log files still unsealed** (delivered after the final digest):
//!   a one-digest chain of its own seals them, so no delivered file is ever left unsealed.
//!
//! Each digest is written to the bucket **first**; then one transaction moves the chain state
//! and deletes the sealed entries. The key depends only on the period's end and the signing
//! key only on the end's rotation period, so a crash in between re-signs the same period at
//! the same key: a period is never skipped, never sealed twice.
//!
//! Not here: the timer (the server's digest worker), log delivery (`billtrail-trail`, which
//! writes the [`DeliveredLog`] entries sealed here).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use billtrail_auth::credentials::Vault;
use billtrail_objects::{Metadata, ObjectStore};
use billtrail_store::{Key, Store, StoreError};
use billtrail_trail::{
    parse_trail_arn, DeliveredLog, Trail, TrailCursor, TrailStatus, TRAIL_CURSOR_KIND, TRAIL_KIND,
    TRAIL_LOG_KIND, TRAIL_STATUS_KIND,
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::format::{
    self, iso_unix, DigestFile, LogFileEntry, PreviousDigest, TrailLocation, HASH_ALGORITHM,
    META_SIGNATURE, META_SIGNATURE_ALGORITHM, SIGNATURE_ALGORITHM,
};
use crate::keys::{self, KeySchedule, Signer};
use crate::DigestError;

/// The store kind of chain states.
pub const CHAIN_KIND: &str = "digest_chain";

/// How long a stopped trail's final digest waits for delivery to flush, at most.
const FLUSH_GRACE_SECONDS: i64 = 600;

/// The most digests one chain writes in one step (catching up after downtime); the next step
/// goes on.
const MAX_CATCH_UP: usize = 1000;

/// What one digest step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestOptions {
    /// Seconds between digests of a chain (AWS: one hour).
    pub interval: i64,
    pub keys: KeySchedule,
}

impl Default for DigestOptions {
    fn default() -> Self {
        DigestOptions {
            interval: 3600,
            keys: KeySchedule::default(),
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestReport {
    /// Digest files written.
    pub digests: usize,
    /// Log files sealed in them.
    pub log_files: usize,
    /// Chains started.
    pub chains_started: usize,
    /// Chains ended with a final digest.
    pub chains_ended: usize,
    /// (trail ARN, error) of chains whose digest could not be written; retried next step.
    pub failures: Vec<(String, String)>,
}

/// Where a chain stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainState {
    pub trail_arn: String,
    /// The [`Trail::id`] the chain belongs to; empty for a chain of a trail already gone.
    pub trail_id: String,
    /// Where the digests go and how they are named (the trail's, as of the last digest).
    pub location: TrailLocation,
    /// False once a final digest ended the chain: the next digest is a starting digest.
    pub active: bool,
    /// Unix seconds: the start of the next digest (the previous digest's end).
    pub start: i64,
    /// Unix seconds: when the next digest is due, and its end.
    pub end: i64,
    /// The digest the next one links to; `None` before the first.
    pub previous: Option<PreviousDigest>,
}

/// The id of a chain state.
pub fn chain_id(trail_arn: &str, account: &str, region: &str) -> String {
    format!("{trail_arn}|{account}|{region}")
}

/// Where a trail delivers for `(account, region)`.
pub fn trail_location(trail: &Trail, account: &str, region: &str) -> TrailLocation {
    TrailLocation {
        bucket: trail.s3_bucket_name.clone(),
        prefix: trail.s3_key_prefix.clone().filter(|p| !p.is_empty()),
        organization_id: trail
            .organization_id
            .clone()
            .filter(|_| trail.is_organization_trail),
        account_id: account.to_string(),
        region: region.to_string(),
        trail_name: trail.name.clone(),
        home_region: trail.home_region.clone(),
    }
}

/// Where a delivered log of a trail that is gone was delivered, read back from its key
/// (`[prefix/]AWSLogs/[o-id/]<acct>/CloudTrail/...`) and the trail's ARN.
fn location_of_entry(log: &DeliveredLog) -> Option<TrailLocation> {
    let arn = parse_trail_arn(&log.trail_arn)?;
    let (prefix, rest) = match log.key.find("AWSLogs/") {
        Some(0) => ("", log.key.get("AWSLogs/".len()..)?),
        Some(i) => (
            log.key.get(..i)?.trim_end_matches('/'),
            log.key.get(i + "AWSLogs/".len()..)?,
        ),
        None => return None,
    };
    let organization_id = rest
        .split('/')
        .next()
        .filter(|s| s.starts_with("o-"))
        .map(str::to_string);
    Some(TrailLocation {
        bucket: log.bucket.clone(),
        prefix: Some(prefix.to_string()).filter(|p| !p.is_empty()),
        organization_id,
        account_id: log.account_id.clone(),
        region: log.region.clone(),
        trail_name: arn.name.to_string(),
        home_region: arn.region.to_string(),
    })
}

/// What the trail's state means for its chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrailMode {
    /// Logging with validation on: digests are due on schedule.
    Sealing,
    /// Stopped, but delivery may still be flushing records up to `StopLogging`.
    Flushing,
    /// Stopped and flushed, validation off, or deleted: the chain ends.
    Ended,
}

fn trail_mode(store: &Store, trail: Option<&Trail>, now: i64) -> Result<TrailMode, StoreError> {
    let Some(trail) = trail else {
        return Ok(TrailMode::Ended);
    };
    if !trail.log_file_validation_enabled {
        return Ok(TrailMode::Ended);
    }
    if trail.is_logging {
        return Ok(TrailMode::Sealing);
    }
    let cursor: Option<TrailCursor> = store.get(&Key::global(TRAIL_CURSOR_KIND, &trail.arn))?;
    let flushed = cursor.is_some_and(|c| {
        c.trail_id == trail.id && c.pending.is_none() && !trail.has_work_after(c.delivered)
    }) || !trail.has_work_after(0);
    let waited_enough = trail
        .stop_logging_time
        .is_none_or(|t| now - t > FLUSH_GRACE_SECONDS);
    Ok(if flushed || waited_enough {
        TrailMode::Ended
    } else {
        TrailMode::Flushing
    })
}

/// Writes every digest that is due. Errors writing one chain's digest are per chain (in the
/// report and the trail's `LatestDigestDeliveryError`); only a store failure ends the step.
pub async fn digest_once(
    store: &Store,
    objects: &dyn ObjectStore,
    vault: &Vault,
    opts: &DigestOptions,
    now: OffsetDateTime,
) -> Result<DigestReport, DigestError> {
    let now = now.unix_timestamp();
    let interval = opts.interval.max(1);
    let mut report = DigestReport::default();
    let read = store.read();

    let mut trails: BTreeMap<String, Trail> = BTreeMap::new();
    for (arn, text) in read.scan("", TRAIL_KIND)? {
        match serde_json::from_str::<Trail>(&text) {
            Ok(t) => {
                trails.insert(arn, t);
            }
            Err(e) => tracing::error!(trail = %arn, error = %e, "unreadable trail document"),
        }
    }
    let mut chains: BTreeMap<String, ChainState> = BTreeMap::new();
    for (id, text) in read.scan("", CHAIN_KIND)? {
        match serde_json::from_str::<ChainState>(&text) {
            Ok(c) => {
                chains.insert(id, c);
            }
            Err(e) => tracing::error!(chain = %id, error = %e, "unreadable digest chain state"),
        }
    }
    // Unsealed deliveries per chain, oldest first (their ids sort by delivery time).
    let mut unsealed: BTreeMap<String, Vec<(String, DeliveredLog)>> = BTreeMap::new();
    for (id, text) in read.scan("", TRAIL_LOG_KIND)? {
        match serde_json::from_str::<DeliveredLog>(&text) {
            Ok(log) => unsealed
                .entry(chain_id(&log.trail_arn, &log.account_id, &log.region))
                .or_default()
                .push((id, log)),
            Err(e) => tracing::error!(entry = %id, error = %e, "unreadable delivered-log entry"),
        }
    }

    let mut ids: BTreeSet<String> = chains.keys().cloned().collect();
    ids.extend(unsealed.keys().cloned());
    for t in trails.values() {
        if t.is_logging && t.log_file_validation_enabled {
            ids.insert(chain_id(&t.arn, &t.account_id, &t.home_region));
        }
    }

    let mut signers = Signers::default();
    let mut modes: HashMap<String, TrailMode> = HashMap::new();
    for id in ids {
        let entries = unsealed.remove(&id).unwrap_or_default();
        let state = chains.remove(&id);
        let Some((arn, account, region)) = split_chain_id(&id) else {
            continue;
        };
        let trail = trails.get(arn);
        let mode = match modes.get(arn) {
            Some(m) => *m,
            None => {
                let m = trail_mode(store, trail, now)?;
                modes.insert(arn.to_string(), m);
                m
            }
        };
        let step = ChainStep {
            store,
            objects,
            vault,
            opts,
            interval,
            now,
            id: &id,
            arn,
            account,
            region,
            trail,
            mode,
        };
        match step.run(state, entries, &mut signers, &mut report).await {
            Ok(()) => {}
            Err(DigestError::Store(e)) => return Err(DigestError::Store(e)),
            Err(e) => {
                tracing::warn!(trail = %arn, account, region, error = %e, "digest delivery failed");
                record_failure(store, trail, &e.to_string()).await?;
                report.failures.push((arn.to_string(), e.to_string()));
            }
        }
    }
    Ok(report)
}

fn split_chain_id(id: &str) -> Option<(&str, &str, &str)> {
    let (rest, region) = id.rsplit_once('|')?;
    let (arn, account) = rest.rsplit_once('|')?;
    Some((arn, account, region))
}

/// Signers opened in this step, by (region, rotation period start).
#[derive(Default)]
struct Signers(HashMap<(String, i64), std::sync::Arc<Signer>>);

impl Signers {
    async fn get(
        &mut self,
        store: &Store,
        vault: &Vault,
        region: &str,
        at: i64,
        schedule: KeySchedule,
        now: i64,
    ) -> Result<std::sync::Arc<Signer>, DigestError> {
        let slot = (region.to_string(), schedule.period_start(at));
        if let Some(s) = self.0.get(&slot) {
            return Ok(s.clone());
        }
        let s =
            std::sync::Arc::new(keys::signing_key(store, vault, region, at, schedule, now).await?);
        self.0.insert(slot, s.clone());
        Ok(s)
    }
}

/// One chain's step.
struct ChainStep<'a> {
    store: &'a Store,
    objects: &'a dyn ObjectStore,
    vault: &'a Vault,
    opts: &'a DigestOptions,
    interval: i64,
    now: i64,
    id: &'a str,
    arn: &'a str,
    account: &'a str,
    region: &'a str,
    trail: Option<&'a Trail>,
    mode: TrailMode,
}

impl ChainStep<'_> {
    async fn run(
        &self,
        state: Option<ChainState>,
        mut entries: Vec<(String, DeliveredLog)>,
        signers: &mut Signers,
        report: &mut DigestReport,
    ) -> Result<(), DigestError> {
        // A chain of an earlier trail of the same ARN (deleted, created again) ends first.
        let current_id = self.trail.map(|t| t.id.as_str()).unwrap_or_default();
        let mut state = state;
        if let Some(s) = state
            .as_ref()
            .filter(|s| s.active && self.trail.is_some_and(|t| t.id != s.trail_id))
        {
            let end = self.now.max(s.start + 1);
            let ended = self
                .seal(s.clone(), &mut entries, end, true, signers, report)
                .await?;
            report.chains_ended += 1;
            state = Some(ended);
        }
        match (state, self.mode) {
            (Some(s), TrailMode::Sealing) if s.active => {
                let mut s = s;
                for _ in 0..MAX_CATCH_UP {
                    if self.now < s.end {
                        break;
                    }
                    let end = s.end;
                    s = self
                        .seal(s, &mut entries, end, false, signers, report)
                        .await?;
                }
                // Keep the current key ready, so ListPublicKeys shows it before it signs.
                signers
                    .get(
                        self.store,
                        self.vault,
                        self.region,
                        self.now,
                        self.opts.keys,
                        self.now,
                    )
                    .await?;
                Ok(())
            }
            (Some(s), TrailMode::Flushing) if s.active => Ok(()),
            (Some(s), TrailMode::Ended) if s.active => {
                let end = self.now.max(s.start + 1);
                self.seal(s, &mut entries, end, true, signers, report)
                    .await?;
                report.chains_ended += 1;
                if self.trail.is_none() {
                    self.forget().await?;
                }
                Ok(())
            }
            (_, TrailMode::Sealing) => {
                // A new chain, or one that resumes: it starts now, or at its first unsealed
                // delivery.
                let start = entries
                    .iter()
                    .map(|(_, l)| l.delivered_at)
                    .min()
                    .map_or(self.now, |d| d.min(self.now));
                let Some(trail) = self.trail else {
                    return Ok(());
                };
                let s = ChainState {
                    trail_arn: self.arn.to_string(),
                    trail_id: trail.id.clone(),
                    location: trail_location(trail, self.account, self.region),
                    active: true,
                    start,
                    end: start + self.interval,
                    previous: None,
                };
                self.save(&s).await?;
                report.chains_started += 1;
                signers
                    .get(
                        self.store,
                        self.vault,
                        self.region,
                        self.now,
                        self.opts.keys,
                        self.now,
                    )
                    .await?;
                Box::pin(self.run(Some(s), entries, signers, report)).await
            }
            (state, _) => {
                // Ended, with deliveries left over: a one-digest chain seals them.
                if entries.is_empty() {
                    if state.is_some() && self.trail.is_none() {
                        self.forget().await?;
                    }
                    return Ok(());
                }
                let location = match (self.trail, &state) {
                    (Some(t), _) => trail_location(t, self.account, self.region),
                    (None, Some(s)) => s.location.clone(),
                    (None, None) => match entries.first().and_then(|(_, l)| location_of_entry(l)) {
                        Some(l) => l,
                        None => return Ok(()),
                    },
                };
                let start = entries
                    .iter()
                    .map(|(_, l)| l.delivered_at)
                    .min()
                    .unwrap_or(self.now)
                    .min(self.now);
                let s = ChainState {
                    trail_arn: self.arn.to_string(),
                    trail_id: current_id.to_string(),
                    location,
                    active: true,
                    start,
                    end: self.now.max(start + 1),
                    previous: None,
                };
                let end = s.end;
                self.seal(s, &mut entries, end, true, signers, report)
                    .await?;
                if self.trail.is_none() {
                    self.forget().await?;
                }
                Ok(())
            }
        }
    }

    /// Writes the digest of `[state.start, end]` sealing the entries delivered by `end` (all
    /// of them for a final digest), then commits the new chain state with the deletion of
    /// the sealed entries. Returns the new state.
    async fn seal(
        &self,
        state: ChainState,
        entries: &mut Vec<(String, DeliveredLog)>,
        end: i64,
        last: bool,
        signers: &mut Signers,
        report: &mut DigestReport,
    ) -> Result<ChainState, DigestError> {
        let mut location = state.location.clone();
        if let Some(t) = self.trail.filter(|t| t.id == state.trail_id) {
            location = trail_location(t, self.account, self.region);
        }
        let (sealed, kept): (Vec<_>, Vec<_>) = std::mem::take(entries)
            .into_iter()
            .partition(|(_, l)| last || l.delivered_at <= end);
        *entries = kept;
        let signer = signers
            .get(
                self.store,
                self.vault,
                self.region,
                end,
                self.opts.keys,
                self.now,
            )
            .await?;
        let end_time = format::from_unix(end);
        let key = location.digest_key(end_time);
        let mut digest = DigestFile {
            aws_account_id: location.account_id.clone(),
            digest_start_time: iso_unix(state.start),
            digest_end_time: iso_unix(end),
            digest_s3_bucket: location.bucket.clone(),
            digest_s3_object: key.clone(),
            digest_public_key_fingerprint: signer.fingerprint.clone(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.to_string(),
            newest_event_time: None,
            oldest_event_time: None,
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: None,
            previous_digest_hash_value: None,
            previous_digest_hash_algorithm: None,
            previous_digest_signature: None,
            log_files: sealed
                .iter()
                .map(|(_, l)| LogFileEntry {
                    s3_bucket: l.bucket.clone(),
                    s3_object: l.key.clone(),
                    hash_value: l.sha256_hex.clone(),
                    hash_algorithm: HASH_ALGORITHM.to_string(),
                    newest_event_time: l.newest_event_time.clone(),
                    oldest_event_time: l.oldest_event_time.clone(),
                })
                .collect(),
        };
        digest.set_event_times();
        digest.set_previous(state.previous.as_ref().filter(|_| state.active));
        let json = digest.to_json();
        let hash = format::sha256_hex(&json);
        let signature = signer.sign_hex(&format::string_to_sign(
            &digest.digest_end_time,
            &location.bucket,
            &key,
            &hash,
            digest.previous_digest_signature.as_deref(),
        ));
        let metadata = Metadata::from([
            (META_SIGNATURE.to_string(), signature.clone()),
            (
                META_SIGNATURE_ALGORITHM.to_string(),
                SIGNATURE_ALGORITHM.to_string(),
            ),
        ]);
        self.objects
            .put(
                &location.bucket,
                &key,
                Bytes::from(format::gzip(&json)),
                &metadata,
            )
            .await?;

        let next = ChainState {
            trail_arn: state.trail_arn.clone(),
            trail_id: state.trail_id.clone(),
            location: location.clone(),
            active: !last,
            start: end,
            end: end + self.interval,
            previous: Some(PreviousDigest {
                bucket: location.bucket.clone(),
                key: key.clone(),
                hash_hex: hash,
                signature_hex: signature,
            }),
        };
        let (id, saved, expected_start) = (self.id.to_string(), next.clone(), state.start);
        let sealed_ids: Vec<String> = sealed.iter().map(|(id, _)| id.clone()).collect();
        let (arn, trail_id, at) = (self.arn.to_string(), state.trail_id.clone(), self.now);
        self.store
            .transact(move |t| {
                let key = Key::global(CHAIN_KIND, &id);
                if let Some(current) = t.get::<ChainState>(&key)? {
                    if current.start != expected_start && current.active {
                        // Another worker sealed this period first; its state stands.
                        return Ok(());
                    }
                }
                t.put(&key, &saved)?;
                for log in &sealed_ids {
                    t.delete(&Key::global(TRAIL_LOG_KIND, log))?;
                }
                let live = t
                    .get::<Trail>(&Key::global(TRAIL_KIND, &arn))?
                    .is_some_and(|tr| tr.id == trail_id);
                if live {
                    let skey = Key::global(TRAIL_STATUS_KIND, &arn);
                    let mut s: TrailStatus = t.get(&skey)?.unwrap_or_default();
                    s.latest_digest_delivery_time = Some(at);
                    s.latest_digest_delivery_error = None;
                    t.put(&skey, &s)?;
                }
                Ok(())
            })
            .await?;
        report.digests += 1;
        report.log_files += sealed.len();
        tracing::debug!(trail = %self.arn, bucket = %location.bucket, key = %key, logs = sealed.len(), "digest delivered");
        Ok(next)
    }

    async fn save(&self, s: &ChainState) -> Result<(), StoreError> {
        let (id, s) = (self.id.to_string(), s.clone());
        self.store
            .transact(move |t| t.put(&Key::global(CHAIN_KIND, &id), &s))
            .await
    }

    /// Drops the state of a chain whose trail is gone.
    async fn forget(&self) -> Result<(), StoreError> {
        let id = self.id.to_string();
        self.store
            .transact(move |t| t.delete(&Key::global(CHAIN_KIND, &id)).map(|_| ()))
            .await
    }
}

/// Records a failed digest delivery in the trail's status (`LatestDigestDeliveryError`).
async fn record_failure(
    store: &Store,
    trail: Option<&Trail>,
    error: &str,
) -> Result<(), StoreError> {
    let Some(trail) = trail else {
        return Ok(());
    };
    let (arn, id, error) = (trail.arn.clone(), trail.id.clone(), error.to_string());
    store
        .transact(move |t| {
            let live = t
                .get::<Trail>(&Key::global(TRAIL_KIND, &arn))?
                .is_some_and(|tr| tr.id == id);
            if !live {
                return Ok(());
            }
            let key = Key::global(TRAIL_STATUS_KIND, &arn);
            let mut s: TrailStatus = t.get(&key)?.unwrap_or_default();
            s.latest_digest_delivery_error = Some(error);
            t.put(&key, &s)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_split_back() {
        let id = chain_id(
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
            "111122223333",
            "eu-west-1",
        );
        assert_eq!(
            split_chain_id(&id),
            Some((
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
                "111122223333",
                "eu-west-1"
            ))
        );
    }

    #[test]
    fn a_gone_trail_is_located_from_its_log_keys() {
        let log = DeliveredLog {
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org".into(),
            account_id: "444455556666".into(),
            region: "eu-west-1".into(),
            bucket: "b".into(),
            key: "pre/fix/AWSLogs/o-abc123/444455556666/CloudTrail/eu-west-1/2024/01/02/x.json.gz"
                .into(),
            sha256_hex: String::new(),
            oldest_event_time: String::new(),
            newest_event_time: String::new(),
            delivered_at: 0,
        };
        let loc = location_of_entry(&log).unwrap();
        assert_eq!(loc.prefix.as_deref(), Some("pre/fix"));
        assert_eq!(loc.organization_id.as_deref(), Some("o-abc123"));
        assert_eq!(loc.trail_name, "org");
        assert_eq!(loc.home_region, "us-east-1");
        assert_eq!(
            loc.log_prefix(),
            "pre/fix/AWSLogs/o-abc123/444455556666/CloudTrail/eu-west-1/"
        );
    }
}
