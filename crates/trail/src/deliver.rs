//! [`deliver_once`]: one delivery step for every trail.
//!
//! For each trail with records to deliver:
//!
//! 1. **Fix the batch.** Read up to `batch_limit` records after the trail's cursor, then the
//!    trail itself (read after the records, its logging periods cover them exactly: a later
//!    `StartLogging`/`StopLogging` only affects later records). If any record is selected, the
//!    batch (its last sequence number, the trail as read, the organization's accounts) is
//!    written to the cursor as `pending` before any object is written.
//! 2. **Write the objects.** Group, split, encode ([`crate::file`]), `put` each file. Keys
//!    and bytes are functions of the batch alone.
//! 3. **Move the cursor**, in one transaction with the trail's status and, for trails with log
//!    file validation, one [`DeliveredLog`] per file for the digest worker.
//!
//! A crash or a storage error anywhere before step 3 commits leaves `pending` in place; the
//! next step delivers exactly that batch again, which rewrites the same objects with the same
//! bytes. So every selected record ends up in exactly one object, whatever fails when.
//! A storage error is recorded in the trail's status (`LatestDeliveryError`) and reported, so
//! that the scheduler backs off; the cursor stays, and the backlog is delivered once storage
//! is back.
//!
//! Not here: the timer and the backoff (the server's delivery worker), digests (the digest
//! crate, which reads the [`DeliveredLog`] entries).

use std::collections::{BTreeMap, BTreeSet};

use billtrail_objects::{Metadata, ObjectError, ObjectStore};
use billtrail_store::{Key, Store, StoreError, StoredEvent, Txn};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::file::{build_files, iso_seconds, BatchId, Layout, LogFile};
use crate::model::{
    trail_log_id, DeliveredLog, PendingBatch, Trail, TrailCursor, TrailStatus, TRAIL_CURSOR_KIND,
    TRAIL_KIND, TRAIL_LOG_KIND, TRAIL_STATUS_KIND,
};
use crate::notify::{self, Notification};
use crate::select::selects;

/// What one delivery step may do.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// The most bytes of JSON (uncompressed) in one log file; the gzip object is smaller.
    pub max_file_bytes: usize,
    /// The most records one trail reads per step.
    pub batch_limit: usize,
    /// SNS topic (name or ARN) → webhook URL.
    pub notify: BTreeMap<String, String>,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        DeliveryOptions {
            max_file_bytes: 50 * 1024 * 1024,
            batch_limit: 10_000,
            notify: BTreeMap::new(),
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Trails that had records to look at.
    pub trails: usize,
    /// Objects written.
    pub files: usize,
    /// Records in them.
    pub records: usize,
    /// Some trail has more records waiting: call again without waiting.
    pub backlog: bool,
    /// Trails whose objects could not be written; their cursors stay.
    pub failures: Vec<TrailFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailFailure {
    pub trail_arn: String,
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

enum TrailError {
    Store(StoreError),
    Objects(ObjectError),
}

impl From<StoreError> for TrailError {
    fn from(e: StoreError) -> Self {
        TrailError::Store(e)
    }
}

/// What one trail's step did.
#[derive(Default)]
struct Done {
    worked: bool,
    files: usize,
    records: usize,
    backlog: bool,
}

/// Delivers one batch for every trail that has records waiting. Object storage failures are
/// per trail (in the report and the trail's status); only a store failure ends the step.
pub async fn deliver_once(
    store: &Store,
    objects: &dyn ObjectStore,
    opts: &DeliveryOptions,
    now: OffsetDateTime,
) -> Result<DeliveryReport, DeliveryError> {
    let mut report = DeliveryReport::default();
    for (arn, text) in store.read().scan("", TRAIL_KIND)? {
        let trail: Trail = match serde_json::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(trail = %arn, error = %e, "unreadable trail document");
                continue;
            }
        };
        match deliver_trail(store, objects, opts, now, &trail).await {
            Ok(d) => {
                report.trails += usize::from(d.worked);
                report.files += d.files;
                report.records += d.records;
                report.backlog |= d.backlog;
            }
            Err(TrailError::Objects(e)) => {
                report.trails += 1;
                tracing::warn!(trail = %arn, error = %e, "log file delivery failed");
                report.failures.push(TrailFailure {
                    trail_arn: arn,
                    error: e.to_string(),
                });
            }
            Err(TrailError::Store(e)) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// The records of a fixed batch.
struct Batch {
    after: u64,
    last: u64,
    events: Vec<StoredEvent>,
    trail: Trail,
    accounts: Option<Vec<String>>,
    /// Already written to the cursor as `pending`.
    recorded: bool,
    /// More records may follow it.
    backlog: bool,
}

async fn deliver_trail(
    store: &Store,
    objects: &dyn ObjectStore,
    opts: &DeliveryOptions,
    now: OffsetDateTime,
    trail: &Trail,
) -> Result<Done, TrailError> {
    let Some(batch) = fix_batch(store, opts, trail)? else {
        return Ok(Done::default());
    };
    // Selecting, encoding and compressing take a while for a big batch: off the async threads.
    let max_bytes = opts.max_file_bytes.max(1);
    let (mut batch, files, records) = tokio::task::spawn_blocking(move || {
        let (files, records) = encode(&batch, max_bytes);
        (batch, files, records)
    })
    .await
    .map_err(|e| TrailError::Store(StoreError::Database(format!("encoding task failed: {e}"))))?;
    let mut done = Done {
        worked: true,
        files: files.len(),
        records,
        backlog: batch.backlog,
    };
    if files.is_empty() {
        // Nothing to write: move past the batch at once.
        let moved = commit(store, &batch, &[], now).await?;
        done.backlog &= moved;
        return Ok(done);
    }
    if !batch.recorded {
        if !record_pending(store, &batch).await? {
            // The cursor changed under us (the trail was deleted, or another deliverer got
            // there first): nothing to do this time.
            return Ok(Done::default());
        }
        batch.recorded = true;
    }
    let bucket = batch.trail.s3_bucket_name.clone();
    for f in &files {
        if let Err(e) = objects
            .put(&bucket, &f.key, f.body.clone(), &Metadata::new())
            .await
        {
            record_failure(store, &batch.trail, &e, now).await?;
            return Err(TrailError::Objects(e));
        }
    }
    if commit(store, &batch, &files, now).await? {
        if batch.trail.sns_topic_name.is_some() {
            notify::spawn(store.clone(), notification(opts, &batch, &files), now);
        }
    } else {
        done.backlog = false;
    }
    Ok(done)
}

/// The batch's log files, and how many records they hold.
fn encode(batch: &Batch, max_bytes: usize) -> (Vec<LogFile>, usize) {
    encode_batch(
        &batch.trail,
        batch.accounts.as_deref(),
        (batch.after, batch.last),
        &batch.events,
        max_bytes,
    )
}

/// The log files of the records `events` of the batch `(after, last]` for `trail`, and how
/// many records they hold: selection, then grouping, JSON, gzip and SHA-256
/// ([`build_files`]). This is all the CPU work of a delivery step, which runs it off the async
/// threads; it is public so that the benchmark measures exactly this path. `accounts` are the
/// organization's accounts, for an organization trail.
pub fn encode_batch(
    trail: &Trail,
    accounts: Option<&[String]>,
    (after, last): (u64, u64),
    events: &[StoredEvent],
    max_bytes: usize,
) -> (Vec<LogFile>, usize) {
    let org: Option<BTreeSet<String>> = accounts.map(|a| a.iter().cloned().collect());
    let selected: Vec<&StoredEvent> = events
        .iter()
        .filter(|e| selects(trail, org.as_ref(), e))
        .collect();
    let id = BatchId {
        trail_arn: &trail.arn,
        after,
        last,
    };
    let layout = Layout {
        prefix: trail.s3_key_prefix.as_deref(),
        organization_id: trail
            .organization_id
            .as_deref()
            .filter(|_| trail.is_organization_trail),
    };
    (
        build_files(id, layout, &selected, max_bytes),
        selected.len(),
    )
}

/// The batch this step delivers: the pending one if a previous step left one, else the next
/// records after the cursor. `None` when there is nothing to do.
fn fix_batch(
    store: &Store,
    opts: &DeliveryOptions,
    trail: &Trail,
) -> Result<Option<Batch>, StoreError> {
    let limit = opts.batch_limit.max(1);
    let cursor = cursor_of(
        store.get::<TrailCursor>(&Key::global(TRAIL_CURSOR_KIND, &trail.arn))?,
        trail,
    );
    if let Some(p) = cursor.pending {
        let from = first_loggable(&p.trail, cursor.delivered);
        return Ok(Some(Batch {
            after: cursor.delivered,
            last: p.last,
            events: read_range(store, from, p.last, limit)?,
            trail: p.trail,
            accounts: p.accounts,
            recorded: true,
            backlog: true,
        }));
    }
    if !trail.has_work_after(cursor.delivered) {
        return Ok(None);
    }
    let from = first_loggable(trail, cursor.delivered);
    let events = store.read().events_after(from, limit)?;
    let Some(last) = events.last().map(|e| e.seq) else {
        return Ok(None);
    };
    // The trail as it is now. Read after the records, its logging periods classify them
    // exactly: a later StartLogging or StopLogging only concerns later records.
    let Some(current) = store.get::<Trail>(&Key::global(TRAIL_KIND, &trail.arn))? else {
        return Ok(None);
    };
    if current.id != trail.id {
        return Ok(None);
    }
    let accounts = organization_accounts(store, &current)?;
    Ok(Some(Batch {
        after: cursor.delivered,
        last,
        backlog: events.len() >= limit,
        events,
        trail: current,
        accounts,
        recorded: false,
    }))
}

/// Where reading may start for a cursor at `delivered`: records up to the start of the
/// earliest period not yet delivered are in no period at all, so a trail that starts logging
/// again after a pause skips the records of the pause instead of reading through them.
fn first_loggable(trail: &Trail, delivered: u64) -> u64 {
    trail
        .logging
        .iter()
        .filter(|p| p.until.is_none_or(|u| u > delivered))
        .map(|p| p.after)
        .min()
        .map_or(delivered, |after| after.max(delivered))
}

/// The trail's cursor, or where a trail without one starts: where it first logged.
fn cursor_of(stored: Option<TrailCursor>, trail: &Trail) -> TrailCursor {
    match stored {
        Some(c) if c.trail_id == trail.id => c,
        _ => TrailCursor {
            trail_id: trail.id.clone(),
            delivered: trail.logging.iter().map(|p| p.after).min().unwrap_or(0),
            pending: None,
        },
    }
}

/// The records with `after < seq <= last`, read in pages of `limit`.
fn read_range(
    store: &Store,
    after: u64,
    last: u64,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut out = Vec::new();
    let mut from = after;
    while from < last {
        let page = store.read().events_after(from, limit)?;
        let Some(end) = page.last().map(|e| e.seq) else {
            break;
        };
        out.extend(page.into_iter().filter(|e| e.seq <= last));
        from = end;
    }
    Ok(out)
}

/// The accounts of an organization trail's organization (read from Organizations' state).
fn organization_accounts(store: &Store, trail: &Trail) -> Result<Option<Vec<String>>, StoreError> {
    /// The part of an Organizations `org_account` document delivery needs.
    #[derive(Deserialize)]
    struct Member {
        organization_id: String,
    }
    let Some(org) = trail
        .organization_id
        .as_deref()
        .filter(|_| trail.is_organization_trail)
    else {
        return Ok(None);
    };
    let mut accounts = Vec::new();
    for (account, text) in store.read().scan("", "org_account")? {
        match serde_json::from_str::<Member>(&text) {
            Ok(m) if m.organization_id == org => accounts.push(account),
            Ok(_) => {}
            Err(e) => tracing::error!(account = %account, error = %e, "unreadable org_account"),
        }
    }
    Ok(Some(accounts))
}

/// Reads the trail's cursor inside a transaction, if it still belongs to `trail_id`.
fn live_cursor(
    t: &mut Txn<'_>,
    arn: &str,
    trail_id: &str,
) -> Result<Option<TrailCursor>, StoreError> {
    let Some(trail) = t.get::<Trail>(&Key::global(TRAIL_KIND, arn))? else {
        return Ok(None);
    };
    if trail.id != trail_id {
        return Ok(None);
    }
    let stored = t.get::<TrailCursor>(&Key::global(TRAIL_CURSOR_KIND, arn))?;
    Ok(Some(cursor_of(stored, &trail)))
}

/// Writes the batch to the cursor as `pending`, if the cursor is still where the batch
/// started. Returns whether it did.
async fn record_pending(store: &Store, batch: &Batch) -> Result<bool, StoreError> {
    let arn = batch.trail.arn.clone();
    let pending = PendingBatch {
        last: batch.last,
        trail: batch.trail.clone(),
        accounts: batch.accounts.clone(),
    };
    let after = batch.after;
    store
        .transact(move |t| {
            let Some(mut c) = live_cursor(t, &arn, &pending.trail.id)? else {
                return Ok(false);
            };
            if c.delivered != after || c.pending.is_some() {
                return Ok(false);
            }
            c.pending = Some(pending);
            t.put(&Key::global(TRAIL_CURSOR_KIND, &arn), &c)?;
            Ok(true)
        })
        .await
}

/// Moves the cursor past the batch, with the trail's status and the delivered-log entries,
/// if the cursor is still where the batch started. Returns whether it did.
async fn commit(
    store: &Store,
    batch: &Batch,
    files: &[LogFile],
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let arn = batch.trail.arn.clone();
    let trail_id = batch.trail.id.clone();
    let (after, last, recorded) = (batch.after, batch.last, batch.recorded);
    let at = now.unix_timestamp();
    let logs: Vec<DeliveredLog> = if batch.trail.log_file_validation_enabled {
        files
            .iter()
            .map(|f| DeliveredLog {
                trail_arn: arn.clone(),
                account_id: f.account_id.clone(),
                region: f.region.clone(),
                bucket: batch.trail.s3_bucket_name.clone(),
                key: f.key.clone(),
                sha256_hex: f.sha256_hex.clone(),
                oldest_event_time: iso_seconds(f.oldest_event_time),
                newest_event_time: iso_seconds(f.newest_event_time),
                delivered_at: at,
            })
            .collect()
    } else {
        Vec::new()
    };
    let delivered_files = !files.is_empty();
    store
        .transact(move |t| {
            let Some(mut c) = live_cursor(t, &arn, &trail_id)? else {
                return Ok(false);
            };
            let same = c.delivered == after
                && match &c.pending {
                    Some(p) => recorded && p.last == last,
                    None => !recorded,
                };
            if !same {
                return Ok(false);
            }
            c.delivered = last;
            c.pending = None;
            t.put(&Key::global(TRAIL_CURSOR_KIND, &arn), &c)?;
            if delivered_files {
                let key = Key::global(TRAIL_STATUS_KIND, &arn);
                let mut s: TrailStatus = t.get(&key)?.unwrap_or_default();
                s.latest_delivery_time = Some(at);
                s.latest_delivery_attempt_time = Some(at);
                s.latest_delivery_attempt_succeeded = Some(at);
                s.latest_delivery_error = None;
                t.put(&key, &s)?;
            }
            for log in &logs {
                t.put(&Key::global(TRAIL_LOG_KIND, &trail_log_id(log)), log)?;
            }
            Ok(true)
        })
        .await
}

/// Records a failed delivery attempt in the trail's status.
async fn record_failure(
    store: &Store,
    trail: &Trail,
    e: &ObjectError,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let arn = trail.arn.clone();
    let trail_id = trail.id.clone();
    let error = delivery_error(e);
    let at = now.unix_timestamp();
    store
        .transact(move |t| {
            if live_cursor(t, &arn, &trail_id)?.is_none() {
                return Ok(());
            }
            let key = Key::global(TRAIL_STATUS_KIND, &arn);
            let mut s: TrailStatus = t.get(&key)?.unwrap_or_default();
            s.latest_delivery_attempt_time = Some(at);
            s.latest_delivery_error = Some(error);
            t.put(&key, &s)
        })
        .await
}

/// The error as `GetTrailStatus` shows it: S3's error code where there is one, as AWS does.
fn delivery_error(e: &ObjectError) -> String {
    match e {
        ObjectError::NoSuchBucket(_) => "NoSuchBucket".into(),
        ObjectError::InvalidBucketName(_) => "InvalidBucketName".into(),
        other => other.to_string(),
    }
}

fn notification(opts: &DeliveryOptions, batch: &Batch, files: &[LogFile]) -> Notification {
    let mut h = Sha256::new();
    h.update(batch.trail.arn.as_bytes());
    h.update(batch.after.to_be_bytes());
    h.update(batch.last.to_be_bytes());
    let d = hex::encode(h.finalize());
    // A UUID-shaped id derived from the batch.
    let message_id = format!(
        "{}-{}-{}-{}-{}",
        &d[0..8],
        &d[8..12],
        &d[12..16],
        &d[16..20],
        &d[20..32]
    );
    Notification {
        trail_arn: batch.trail.arn.clone(),
        trail_id: batch.trail.id.clone(),
        topic_arn: batch.trail.sns_topic_arn().unwrap_or_default(),
        url: notify::webhook(&opts.notify, &batch.trail).cloned(),
        bucket: batch.trail.s3_bucket_name.clone(),
        keys: files.iter().map(|f| f.key.clone()).collect(),
        message_id,
    }
}
