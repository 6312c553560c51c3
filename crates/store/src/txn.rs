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

/// A job's view of the batch transaction. Every write goes through here so that a failed store
/// call poisons the job: the writer then rolls back the job's savepoint instead of committing a
/// half-done change.
pub struct Txn<'a> {
    conn: &'a mut dyn WriteConn,
    poisoned: bool,
    depth: u32,
}

impl<'a> Txn<'a> {
    pub(crate) fn new(conn: &'a mut dyn WriteConn) -> Self {
        Txn {
            conn,
            poisoned: false,
            depth: 0,
        }
    }

    pub(crate) fn poisoned(&self) -> bool {
        self.poisoned
    }

    fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.poisoned = true;
        }
        r
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
        self.check(r)
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
        let r = self.conn.put(key.account, key.kind, key.id, text);
        self.check(r)
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
        let r = self.conn.delete(key.account, key.kind, key.id);
        self.check(r)
    }

    /// All documents of one kind in one account as stored (JSON text), ordered by id.
    pub fn scan_text(&mut self, account: &str, kind: &str) -> Result<Vec<(String, String)>> {
        self.live()?;
        let r = self.conn.scan(account, kind);
        self.check(r)
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
        self.check(r)
    }

    /// The highest sequence number handed out so far, this transaction's appends included.
    /// Every record appended after this call (by this job or a later one) gets a higher one,
    /// and every record at or below it is committed no later than this job: so it splits the
    /// record log exactly at this point of the commit order (trails use it to mark where
    /// logging started and stopped).
    pub fn last_seq(&mut self) -> Result<u64> {
        self.live()?;
        let r = self.conn.last_seq();
        self.check(r)
    }

    /// Deletes records older than `cutoff` (Unix seconds).
    pub fn prune_before(&mut self, cutoff: i64) -> Result<u64> {
        self.live()?;
        let r = self.conn.prune_before(cutoff);
        self.check(r)
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
        self.check(r)?;
        let out = f(self);
        let end = if out.is_err() || self.poisoned {
            self.conn
                .rollback_to(&name)
                .and_then(|_| self.conn.release(&name))
        } else {
            self.conn.release(&name)
        };
        self.depth -= 1;
        self.check(end)?;
        self.live()?;
        Ok(out)
    }
}
