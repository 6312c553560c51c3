//! The record log's row types and the query that `LookupEvents` and downloads run.

use serde::{Deserialize, Serialize};

/// A record to append, with the columns queries filter on. `record` is the compact CloudTrail
/// JSON; the store never looks inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The account whose event history holds the record (`recipientAccountId`).
    pub account_id: String,
    /// `awsRegion`.
    pub region: String,
    /// `eventTime` as Unix seconds.
    pub event_time: i64,
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub read_only: bool,
    /// `LookupEvents`' `Username`: "root", the IAM user name, or the session name.
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    /// `(ResourceType, ResourceName)` pairs.
    pub resources: Vec<(Option<String>, String)>,
    /// Management events are shown in event history; the rest (data events) are not.
    pub management: bool,
    pub record: String,
}

/// A record as stored: the appended row plus its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Strictly increasing in commit order; never reused, even after retention deletes records.
    pub seq: u64,
    pub event: NewEvent,
}

/// A position in the newest-first order `(event_time DESC, seq DESC)`; a query with `before`
/// returns only events strictly after it in that order.
/// Field order matters: the derived ordering compares `event_time`, then `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cursor {
    pub event_time: i64,
    pub seq: u64,
}

/// One attribute filter. Several filters narrow the result (logical AND).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventFilter {
    EventId(String),
    EventName(String),
    EventSource(String),
    ReadOnly(bool),
    Username(String),
    AccessKeyId(String),
    ResourceType(String),
    ResourceName(String),
}

/// The events of one account and region, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    pub account_id: String,
    pub region: String,
    pub filters: Vec<EventFilter>,
    /// Inclusive lower bound on `event_time` (Unix seconds).
    pub start_time: Option<i64>,
    /// Inclusive upper bound on `event_time` (Unix seconds).
    pub end_time: Option<i64>,
    /// Continue after this position.
    pub before: Option<Cursor>,
    /// Only management events when true.
    pub management_only: bool,
    pub limit: usize,
}

impl StoredEvent {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            event_time: self.event.event_time,
            seq: self.seq,
        }
    }
}
