//! [`Txn`]: what a job sees of the batch transaction it runs in.

use std::fmt;

use serde::{de::DeserializeOwned, Serialize};

use crate::{NewEvent, Result, StoreError, WriteConn};

/// The address of a state document. `account` is the 12-digit account that owns it, or `""` for
/// documents that belong to the installation (for example the access-key index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    pub account: &'a str,
    pub kind: &'a str,
    pub id: &'a str,
}

impl<'a> Key<'a> {
    pub fn new(account: &'a str, kind: &'a str, id: &'a str) -> Self {
        Key { account, kind, id }
    }
    pub fn global(kind: &'a str, id: &'a str) -> Self {
        Key {
            account: "",
            kind,
            id,
        }
    }
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.account, self.kind, self.id)
    }
}

/// A job's view of the batch transaction. Every write goes through here so that the writer
/// knows what the job left behind: whether a store call failed (then nothing of the batch can
/// be trusted to commit), and whether it wrote anything that is still in the transaction.
pub struct Txn<'a> {
    conn: &'a mut dyn WriteConn,
    /// A store call failed: every later call of this job fails too.
    poisoned: bool,
    /// A call to the backend itself failed (not merely a value that did not decode).
    failed: bool,
    /// The job has writes in the transaction (outside any `atomic` that rolled back).
    wrote: bool,
    /// The job wrote (or tried to write) an installation-wide document (account `""`).
    wrote_global: bool,
    depth: u32,
}

impl<'a> Txn<'a> {
    pub(crate) fn new(conn: &'a mut dyn WriteConn) -> Self {
        Txn {
            conn,
            poisoned: false,
            failed: false,
            wrote: false,
            wrote_global: false,
            depth: 0,
        }
    }

    /// Whether a backend call of this job failed.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// Whether the job has writes in the transaction.
    pub(crate) fn wrote(&self) -> bool {
        self.wrote
    }

    /// Whether the job may have changed an installation-wide document.
    pub(crate) fn wrote_global(&self) -> bool {
        self.wrote_global
    }

    fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.poisoned = true;
        }
        r
    }

    /// [`Txn::check`] for a call to the backend: its failure leaves the transaction in a state
    /// nobody can vouch for. A write that succeeded marks the job as having written.
    fn backend<T>(&mut self, r: Result<T>, writes: bool) -> Result<T> {
        match &r {
            Ok(_) => self.wrote |= writes,
            Err(_) => self.failed = true,
        }
        self.check(r)
    }

    fn live(&self) -> Result<()> {
        if self.poisoned {
            Err(StoreError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Reads one document as stored (JSON text).
    pub fn get_text(&mut self, key: &Key<'_>) -> Result<Option<String>> {
        self.live()?;
        let r = self.conn.get(key.account, key.kind, key.id);
        self.backend(r, false)
    }

    /// Reads and decodes one document.
    pub fn get<T: DeserializeOwned>(&mut self, key: &Key<'_>) -> Result<Option<T>> {
        match self.get_text(key)? {
            None => Ok(None),
            Some(text) => {
                let decoded = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(key.to_string(), e.to_string()));
                self.check(decoded).map(Some)
            }
        }
    }

    /// Writes one document given as JSON text, replacing any previous value.
    pub fn put_text(&mut self, key: &Key<'_>, text: &str) -> Result<()> {
        self.live()?;
        self.wrote_global |= key.account.is_empty();
        let r = self.conn.put(key.account, key.kind, key.id, text);
        self.backend(r, true)
    }

    /// Encodes and writes one document, replacing any previous value.
    pub fn put<T: Serialize + ?Sized>(&mut self, key: &Key<'_>, value: &T) -> Result<()> {
        let text = serde_json::to_string(value)
            .map_err(|e| StoreError::Corrupt(key.to_string(), e.to_string()));
        let text = self.check(text)?;
        self.put_text(key, &text)
    }

    /// Deletes one document; returns whether it existed.
    pub fn delete(&mut self, key: &Key<'_>) -> Result<bool> {
        self.live()?;
        self.wrote_global |= key.account.is_empty();
        let r = self.conn.delete(key.account, key.kind, key.id);
        self.backend(r, true)
    }

    /// All documents of one kind in one account as stored (JSON text), ordered by id.
    pub fn scan_text(&mut self, account: &str, kind: &str) -> Result<Vec<(String, String)>> {
        self.live()?;
        let r = self.conn.scan(account, kind);
        self.backend(r, false)
    }

    /// All documents of one kind in one account, ordered by id.
    pub fn scan<T: DeserializeOwned>(
        &mut self,
        account: &str,
        kind: &str,
    ) -> Result<Vec<(String, T)>> {
        let rows = self.scan_text(account, kind)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, text) in rows {
            let decoded = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("{account}/{kind}/{id}"), e.to_string()));
            out.push((id, self.check(decoded)?));
        }
        Ok(out)
    }

    /// Appends a record; it commits with the rest of this job's writes.
    pub fn append(&mut self, event: &NewEvent) -> Result<u64> {
        self.live()?;
        let r = self.conn.append(event);
        self.backend(r, true)
    }

    /// The highest sequence number handed out so far, this transaction's appends included.
    /// Every record appended after this call (by this job or a later one) gets a higher one,
    /// and every record at or below it is committed no later than this job: so it splits the
    /// record log exactly at this point of the commit order (trails use it to mark where
    /// logging started and stopped).
    pub fn last_seq(&mut self) -> Result<u64> {
        self.live()?;
        let r = self.conn.last_seq();
        self.backend(r, false)
    }

    /// Deletes records older than `cutoff` (Unix seconds).
    pub fn prune_before(&mut self, cutoff: i64) -> Result<u64> {
        self.live()?;
        let r = self.conn.prune_before(cutoff);
        self.backend(r, true)
    }

    /// Runs `f` so that its writes are kept only if it returns `Ok`: on `Err` they are rolled back
    /// and the error is handed back, while the enclosing job goes on (to record the failure, for
    /// example). A store failure inside `f` still poisons the whole job.
    pub fn atomic<R, E>(
        &mut self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, E>,
    ) -> Result<Result<R, E>> {
        self.live()?;
        self.depth += 1;
        let name = format!("a{}", self.depth);
        let r = self.conn.savepoint(&name);
        self.backend(r, false)?;
        let wrote_before = self.wrote;
        let out = f(self);
        let end = if out.is_err() || self.poisoned {
            let r = self
                .conn
                .rollback_to(&name)
                .and_then(|_| self.conn.release(&name));
            if r.is_ok() {
                self.wrote = wrote_before;
            }
            r
        } else {
            self.conn.release(&name)
        };
        self.depth -= 1;
        self.backend(end, false)?;
        self.live()?;
        Ok(out)
    }
}
