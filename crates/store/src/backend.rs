//! The interface a storage backend implements: one writer connection, and a read side.
//!
//! The writer connection is used by exactly one thread (the group-commit writer), so it is a
//! plain synchronous `&mut self` interface; a PostgreSQL backend implements it over one
//! connection with `BEGIN`/`SAVEPOINT`/`COMMIT`, exactly as SQLite does.

use crate::{EventQuery, NewEvent, Result, StoredEvent, Txn};

/// The writer's connection. Calls arrive in this order: `begin`, then any mix of savepoint,
/// state and append calls, then `commit` or `rollback`.
pub trait WriteConn: Send + 'static {
    fn begin(&mut self) -> Result<()>;
    /// Makes the transaction durable before returning (fsync or equivalent).
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
    fn savepoint(&mut self, name: &str) -> Result<()>;
    fn rollback_to(&mut self, name: &str) -> Result<()>;
    fn release(&mut self, name: &str) -> Result<()>;

    fn get(&mut self, account: &str, kind: &str, id: &str) -> Result<Option<String>>;
    fn put(&mut self, account: &str, kind: &str, id: &str, value: &str) -> Result<()>;
    fn delete(&mut self, account: &str, kind: &str, id: &str) -> Result<bool>;
    /// All `(id, value)` of one kind in one account, ordered by id.
    fn scan(&mut self, account: &str, kind: &str) -> Result<Vec<(String, String)>>;
    /// Appends a record and returns its sequence number.
    fn append(&mut self, event: &NewEvent) -> Result<u64>;
    /// The highest sequence number handed out so far, including appends of the open
    /// transaction and records pruned since (0 when none ever was): the next append gets a
    /// higher one.
    fn last_seq(&mut self) -> Result<u64>;
    /// Deletes records with `event_time` before `cutoff` (retention), oldest first, possibly
    /// only some of them: call again until it returns 0. Returns how many.
    fn prune_before(&mut self, cutoff: i64) -> Result<u64>;
}

/// Reads of committed data, safe to call from many threads at once.
pub trait ReadSide: Send + Sync + 'static {
    fn get(&self, key: &crate::Key<'_>) -> Result<Option<String>>;
    fn scan(&self, account: &str, kind: &str) -> Result<Vec<(String, String)>>;
    /// The events matching `query`, newest first, at most `query.limit`.
    fn lookup(&self, query: &EventQuery) -> Result<Vec<StoredEvent>>;
    /// The events with `seq > after`, in sequence order, at most `limit`.
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>>;
    /// The highest sequence number committed so far (0 when empty).
    fn last_seq(&self) -> Result<u64>;
}

/// The work a writer job does: it runs inside the batch transaction and returns the completion to
/// call once the batch's fate is known, and whether its writes are to be kept.
pub(crate) type Work = Box<dyn FnOnce(&mut Txn<'_>) -> (Completion, bool) + Send>;
pub(crate) type Completion = Box<dyn FnOnce(Result<()>) + Send>;
