//! Trails: which records a trail selects, and their delivery as CloudTrail log files.
//!
//! The job: every record a trail selects ends up in exactly one gzip log file in the trail's
//! bucket, under AWS's key layout, soon after it was committed.
//!
//! - [`model`]: the trail state (`Trail`, `TrailStatus`, the delivery cursor, the
//!   delivered-log entries the digest worker reads) and where each document is stored.
//! - [`select`]: the selection rules (logging periods, accounts, regions, global service
//!   events, basic and advanced event selectors).
//! - [`file`]: grouping per (account, region), size splits, the `{"Records":[...]}` JSON, gzip
//!   and object keys; all deterministic functions of the batch.
//! - [`deliver`]: [`deliver_once`], the single step the server's worker runs on a timer, and
//!   [`encode_batch`], its CPU work (selection and encoding), which the benchmark times.
//! - `notify`: delivery notifications to a webhook per SNS topic.
//!
//! Invariants:
//! - A record is delivered only if it was committed while the trail was logging, exactly
//!   (sequence numbers, not times).
//! - The cursor moves only after every object of the batch is durable, and a retried batch
//!   rewrites the same keys with the same bytes: no loss, no duplicates, across crashes.
//! - Records are copied verbatim from the store: delivery never re-encodes a record.
//!
//! What this crate is not: the trail API (the operations crate validates and changes trails),
//! object storage (billtrail-objects), digests and validation (billtrail-digest), the timer
//! (the server).

pub mod deliver;
pub mod file;
pub mod model;
mod notify;
pub mod select;

pub use deliver::{
    deliver_once, encode_batch, DeliveryError, DeliveryOptions, DeliveryReport, TrailFailure,
};
pub use model::{
    parse_trail_arn, trail_arn, trail_log_id, AdvancedEventSelector, AdvancedFieldSelector,
    DataResource, DeliveredLog, EventSelector, LoggingPeriod, PendingBatch, ReadWriteType,
    Selectors, Tag, Trail, TrailArn, TrailCursor, TrailStatus, TRAIL_CURSOR_KIND, TRAIL_KIND,
    TRAIL_LOG_KIND, TRAIL_STATUS_KIND,
};
pub use notify::envelope as sns_envelope;
