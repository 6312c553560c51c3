//! Log file integrity: signed, chained digest files, their signing keys, and validation.
//!
//! The job of this crate is the last step of the data flow: every hour (configurable) and for
//! every (trail, account, region) with log file validation on, seal the log files delivered
//! since the previous digest into a **digest file**: a gzip'd JSON document listing each log
//! file's SHA-256, signed with the region's RSA key (SHA256withRSA) over exactly the string
//! AWS documents, and chained to the previous digest by its hash and signature. The result is
//! byte-compatible with AWS CloudTrail: `aws cloudtrail validate-logs` accepts it unchanged.
//!
//! * [`format`]: keys, the JSON document, gzip and the signed string (pure functions).
//! * [`keys`]: RSA 2048 signing keys per region, rotated on a schedule, private halves sealed
//!   by the vault; [`keys::public_keys`] answers `ListPublicKeys`.
//! * [`worker`]: [`digest_once`], the single step the server's digest worker runs on a timer.
//! * [`validate`]: what `billtrail validate` does, over any [`ObjectStore`](billtrail_objects::ObjectStore):
//!   everything `validate-logs` checks, with its messages, and what it misses.
//!
//! Invariants:
//! * A digest object is written **before** the chain state that names it and before the
//!   delivered-log entries it seals are deleted, in one transaction. A crash in between re-signs
//!   the same period under the same key (the key name depends only on the period's end), so a
//!   period is never skipped and never sealed twice.
//! * The signing key is chosen by the digest's end time, so a re-signed period uses the same
//!   key, and private keys exist only sealed at rest.
//!
//! What this crate is not: it does not deliver log files (that is `billtrail-trail`, which
//! records each delivered file for us), it has no HTTP surface (`ListPublicKeys` is an
//! operation in `billtrail-operations`), and it does not schedule itself.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod format;
pub mod keys;
pub mod validate;
pub mod worker;

pub use keys::{public_keys, KeySchedule, PublicKey};
pub use validate::{validate, Report, ValidateError, ValidateOptions};
pub use worker::{digest_once, DigestOptions, DigestReport};

/// What can stop a digest run. Every variant is retried at the next run.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] billtrail_store::StoreError),
    #[error(transparent)]
    Objects(#[from] billtrail_objects::ObjectError),
    #[error("signing key: {0}")]
    Key(String),
}
