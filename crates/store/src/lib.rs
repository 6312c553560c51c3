//! The store: account state and the append-only CloudTrail record log, behind one interface.
//!
//! Its job is the one invariant the rest of billtrail leans on: **a call's state change and its
//! record commit together, durably, or neither does.** Callers hand the store a closure
//! ([`Store::transact`]); a single writer thread runs the closures of many concurrent calls in one
//! database transaction (group commit) and answers every caller
//! only after that transaction is on disk. So many calls share one fsync, and a call's future
//! resolves only once its record is durable.
//!
//! State is a set of JSON documents addressed by `(account, kind, id)` ([`Key`]). Records are
//! appended with a gap-free, increasing sequence number and the columns that `LookupEvents`
//! filters on ([`NewEvent`]).
//!
//! Backends implement [`backend::WriteConn`] (the writer's connection) and
//! [`backend::ReadSide`] (concurrent reads); [`sqlite`] is the embedded default. The
//! [`conformance`] suite is written against [`Store`] and runs against every backend.
//!
//! What the store is not: it knows nothing about AWS, HTTP, identities or record formats. It
//! stores what it is given and answers the queries it is asked.

pub mod backend;
mod codec;
pub mod conformance;
mod events;
pub mod sqlite;
mod txn;
mod writer;

use std::sync::Arc;

pub use backend::{ReadSide, WriteConn};
pub use events::{Cursor, EventFilter, EventQuery, NewEvent, StoredEvent};
pub use txn::{Key, Txn};

/// Everything that can go wrong in the store. Callers map it to a generic internal error: the
/// detail is for the log, never for the wire.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt value at {0}: {1}")]
    Corrupt(String, String),
    #[error("the store's writer has stopped")]
    WriterGone,
    #[error("a previous step of this transaction failed")]
    Poisoned,
    #[error("the transaction was rolled back because a job in it failed")]
    BatchAborted,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Options of the group-commit writer.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// The most jobs one transaction takes.
    pub max_batch: usize,
    /// How many jobs may wait for the writer before callers wait to submit.
    pub queue: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            max_batch: 1024,
            queue: 16 * 1024,
        }
    }
}

/// Counters of the group-commit writer since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub transactions: u64,
    pub jobs: u64,
}

/// A handle to the store. Cheap to clone; all clones share the writer and the readers.
#[derive(Clone)]
pub struct Store {
    writer: writer::Handle,
    read: Arc<dyn ReadSide>,
}

impl Store {
    /// Starts the writer thread on `write` and serves reads from `read`.
    pub fn new(write: Box<dyn WriteConn>, read: Arc<dyn ReadSide>, opts: WriterOptions) -> Self {
        Store {
            writer: writer::spawn(write, opts),
            read,
        }
    }

    /// Opens (creating if needed) the embedded SQLite store in `dir`.
    pub fn open_sqlite(dir: &std::path::Path) -> Result<Self> {
        let (w, r) = sqlite::open(dir)?;
        Ok(Store::new(
            Box::new(w),
            Arc::new(r),
            WriterOptions::default(),
        ))
    }

    /// Runs `work` in the next group-commit transaction and returns its result once that
    /// transaction is durable.
    ///
    /// Everything `work` writes through the [`Txn`] commits atomically with everything else it
    /// writes. If `work` returns `Err` before writing anything, that error is returned and the
    /// other jobs of the batch commit as usual. If a store call inside `work` failed, or `work`
    /// returns `Err` after writing, the whole batch is rolled back and every job of it gets an
    /// error: work that may fail half-way puts that part in [`Txn::atomic`]. If the commit itself
    /// fails, every job of the batch gets the error and nothing of the batch is kept.
    pub async fn transact<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut Txn<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.run(work).await
    }

    /// The read side: point reads, scans and event queries, concurrent with the writer. Reads see
    /// committed data only.
    pub fn read(&self) -> &Arc<dyn ReadSide> {
        &self.read
    }

    /// Reads one state document and decodes it.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &Key<'_>) -> Result<Option<T>> {
        match self.read.get(key)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(key.to_string(), e.to_string())),
        }
    }

    /// How many transactions the writer has run, and how many jobs they held (their ratio is the
    /// average group-commit batch).
    pub fn writer_stats(&self) -> WriterStats {
        use std::sync::atomic::Ordering::Relaxed;
        WriterStats {
            transactions: self.writer.stats.transactions.load(Relaxed),
            jobs: self.writer.stats.jobs.load(Relaxed),
        }
    }

    /// A number that grows after every commit that may have changed an installation-wide
    /// document (account `""`), such as an access key. A cache of such documents stays valid
    /// while this stays what it was *before* the document was read.
    pub fn global_generation(&self) -> u64 {
        self.writer
            .stats
            .global_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits until the writer has committed everything submitted before this call.
    pub async fn flush(&self) -> Result<()> {
        self.transact(|_| Ok(())).await
    }
}
