//! [`Context`]: what a handler sees of the world, and [`Env`], what the server shares with every
//! call.

use std::sync::Arc;

use billtrail_audit::Resource;
use billtrail_auth::credentials::Vault;
use billtrail_auth::principal::Principal;
use billtrail_objects::ObjectStore;
use billtrail_protocol::ApiError;
use billtrail_query::TokenKey;
use billtrail_store::{Key, ReadSide, Store, StoreError, Txn};
use serde::{de::DeserializeOwned, Serialize};
use time::OffsetDateTime;

/// What every call shares: the store and the server's keys.
pub struct Env {
    pub store: Store,
    /// Seals `LookupEvents` tokens.
    pub token_key: TokenKey,
    /// Seals secrets at rest.
    pub vault: Vault,
    /// Signalled after a committed call that left work for a background worker (see
    /// [`Context::wake_workers`]), so that the worker (finishing a `CreateAccount`, say) starts
    /// at once instead of at its next tick.
    pub committed: tokio::sync::Notify,
    /// Event history's retention, in seconds (lookups never return older events).
    pub retention_seconds: i64,
    /// Where trail buckets live. Operations that name a bucket (see [`crate::OpSpec`]'s
    /// `bucket_member`) have its existence checked here before their handler runs; without a
    /// store, no bucket exists.
    pub objects: Option<Arc<dyn ObjectStore>>,
}

impl Env {
    pub fn new(store: Store, token_key: TokenKey, vault: Vault) -> Self {
        Env {
            store,
            token_key,
            vault,
            committed: tokio::sync::Notify::new(),
            retention_seconds: billtrail_query::RETENTION_SECONDS,
            objects: None,
        }
    }
}

/// The state interface a handler runs over, as text documents; [`Context`] adds the typing.
pub(crate) trait State {
    fn get_text(&mut self, key: &Key<'_>) -> Result<Option<String>, StoreError>;
    fn scan_text(&mut self, account: &str, kind: &str)
        -> Result<Vec<(String, String)>, StoreError>;
    fn put_text(&mut self, key: &Key<'_>, text: &str) -> Result<(), StoreError>;
    fn delete(&mut self, key: &Key<'_>) -> Result<bool, StoreError>;
    /// The record log's highest sequence number so far (see [`Txn::last_seq`]).
    fn last_seq(&mut self) -> Result<u64, StoreError>;
}

/// Inside the group-commit transaction: reads see, and writes join, the batch.
impl State for Txn<'_> {
    fn get_text(&mut self, key: &Key<'_>) -> Result<Option<String>, StoreError> {
        Txn::get_text(self, key)
    }
    fn scan_text(
        &mut self,
        account: &str,
        kind: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Txn::scan_text(self, account, kind)
    }
    fn put_text(&mut self, key: &Key<'_>, text: &str) -> Result<(), StoreError> {
        Txn::put_text(self, key, text)
    }
    fn delete(&mut self, key: &Key<'_>) -> Result<bool, StoreError> {
        Txn::delete(self, key)
    }
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        Txn::last_seq(self)
    }
}

/// On a reader, outside any transaction: read-only operations never wait for the writer.
pub(crate) struct ReadOnly<'a>(pub &'a dyn ReadSide);

impl State for ReadOnly<'_> {
    fn get_text(&mut self, key: &Key<'_>) -> Result<Option<String>, StoreError> {
        self.0.get(key)
    }
    fn scan_text(
        &mut self,
        account: &str,
        kind: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.0.scan(account, kind)
    }
    fn put_text(&mut self, key: &Key<'_>, _: &str) -> Result<(), StoreError> {
        Err(read_only_write(key))
    }
    fn delete(&mut self, key: &Key<'_>) -> Result<bool, StoreError> {
        Err(read_only_write(key))
    }
    fn last_seq(&mut self) -> Result<u64, StoreError> {
        self.0.last_seq()
    }
}

/// A handler's view of one call: who called, and the state of the caller's account.
pub struct Context<'a> {
    pub env: &'a Env,
    pub caller: &'a Principal,
    /// The region the call is recorded in.
    pub region: &'a str,
    pub now: OffsetDateTime,
    state: &'a mut dyn State,
    resources: Vec<Resource>,
    also_recorded_in: Option<String>,
    /// The bucket the call names and whether it exists, checked before the handler ran.
    bucket: Option<(String, bool)>,
    /// The call left work for a background worker.
    wake: bool,
}

fn internal(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "store failure during an operation");
    ApiError::internal()
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        env: &'a Env,
        caller: &'a Principal,
        region: &'a str,
        state: &'a mut dyn State,
    ) -> Self {
        Context {
            env,
            caller,
            region,
            now: OffsetDateTime::now_utc(),
            state,
            resources: Vec::new(),
            also_recorded_in: None,
            bucket: None,
            wake: false,
        }
    }

    pub(crate) fn with_bucket(mut self, bucket: Option<(String, bool)>) -> Self {
        self.bucket = bucket;
        self
    }

    /// Whether the bucket named by the operation's `bucket_member` exists, as checked (in the
    /// object store, asynchronously) before the handler ran. Handlers run synchronously inside
    /// the store's transaction and cannot ask the object store themselves; asking about any
    /// other bucket is a bug in the operation's table entry, and an internal error.
    pub fn bucket_exists(&self, bucket: &str) -> Result<bool, ApiError> {
        match &self.bucket {
            Some((name, exists)) if name == bucket => Ok(*exists),
            _ => {
                tracing::error!(
                    bucket,
                    "a handler asked about a bucket that was not checked"
                );
                Err(ApiError::internal())
            }
        }
    }

    /// The record log's highest sequence number so far, this call's transaction included:
    /// every record appended after this point of the call gets a higher one.
    pub fn last_seq(&mut self) -> Result<u64, ApiError> {
        self.state.last_seq().map_err(internal)
    }

    /// The account the call acts on: the caller's own.
    pub fn account_id(&self) -> &'a str {
        &self.caller.account_id
    }

    /// Reads a document of the caller's account.
    pub fn get<T: DeserializeOwned>(
        &mut self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, ApiError> {
        let account = self.account_id();
        self.get_in(account, kind, id)
    }

    /// Reads a document of any account. Handlers that act across accounts (the management
    /// account over its family) must check that they may before calling this.
    pub fn get_in<T: DeserializeOwned>(
        &mut self,
        account: &str,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, ApiError> {
        let key = Key::new(account, kind, id);
        match self.state.get_text(&key).map_err(internal)? {
            None => Ok(None),
            Some(text) => decode(&key.to_string(), &text).map(Some),
        }
    }

    /// All documents of one kind in the caller's account, ordered by id.
    pub fn scan<T: DeserializeOwned>(&mut self, kind: &str) -> Result<Vec<(String, T)>, ApiError> {
        let account = self.account_id();
        self.scan_in(account, kind)
    }

    /// All documents of one kind in any account (`""` for the installation's own). Handlers
    /// that act across accounts must check that they may before calling this.
    pub fn scan_in<T: DeserializeOwned>(
        &mut self,
        account: &str,
        kind: &str,
    ) -> Result<Vec<(String, T)>, ApiError> {
        let rows = self.state.scan_text(account, kind).map_err(internal)?;
        rows.into_iter()
            .map(|(id, text)| decode(&format!("{account}/{kind}/{id}"), &text).map(|v| (id, v)))
            .collect()
    }

    /// Writes a document of the caller's account. It commits with the call's record.
    pub fn put<T: Serialize + ?Sized>(
        &mut self,
        kind: &str,
        id: &str,
        value: &T,
    ) -> Result<(), ApiError> {
        let account = self.account_id();
        self.put_in(account, kind, id, value)
    }

    pub fn put_in<T: Serialize + ?Sized>(
        &mut self,
        account: &str,
        kind: &str,
        id: &str,
        value: &T,
    ) -> Result<(), ApiError> {
        let key = Key::new(account, kind, id);
        let text = serde_json::to_string(value)
            .map_err(|e| internal(StoreError::Corrupt(key.to_string(), e.to_string())))?;
        self.state.put_text(&key, &text).map_err(internal)
    }

    /// Deletes a document of the caller's account; returns whether it existed.
    pub fn delete(&mut self, kind: &str, id: &str) -> Result<bool, ApiError> {
        let account = self.account_id();
        self.delete_in(account, kind, id)
    }

    pub fn delete_in(&mut self, account: &str, kind: &str, id: &str) -> Result<bool, ApiError> {
        self.state
            .delete(&Key::new(account, kind, id))
            .map_err(internal)
    }

    /// The read side of the store, for queries over the record log.
    pub fn read_side(&self) -> &dyn ReadSide {
        self.env.store.read().as_ref()
    }

    /// Names a resource the call acted on; it goes into the record's `resources`.
    pub fn add_resource(&mut self, resource_type: &str, arn: String) {
        // The owner is the ARN's account field when it has one (a role of another account).
        let owner = arn
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12)
            .unwrap_or(self.account_id())
            .to_string();
        self.resources.push(Resource {
            arn,
            account_id: owner,
            resource_type: Some(resource_type.to_string()),
        });
    }

    pub(crate) fn take_resources(&mut self) -> Vec<Resource> {
        std::mem::take(&mut self.resources)
    }

    /// Records the call in `account`'s history too (a cross-account call: the caller acts on
    /// another account's resource). That copy shows the caller as an `AWSAccount`, and both
    /// records share one `sharedEventID`.
    pub fn also_record_in(&mut self, account: &str) {
        if account != self.account_id() {
            self.also_recorded_in = Some(account.to_string());
        }
    }

    pub(crate) fn take_also_recorded_in(&mut self) -> Option<String> {
        self.also_recorded_in.take()
    }

    /// Asks for the background workers to look for work as soon as this call commits (instead
    /// of at their next tick): for a handler that leaves some, like `CreateAccount`.
    pub fn wake_workers(&mut self) {
        self.wake = true;
    }

    pub(crate) fn wakes_workers(&self) -> bool {
        self.wake
    }
}

fn decode<T: DeserializeOwned>(at: &str, text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| internal(StoreError::Corrupt(at.to_string(), e.to_string())))
}

/// A read-only operation tried to write: a bug in its table entry, never the caller's fault.
fn read_only_write(key: &Key<'_>) -> StoreError {
    StoreError::Database(format!("a read-only operation tried to write {key}"))
}
