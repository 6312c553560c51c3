//! The trail state as stored, and the delivery bookkeeping other crates read.
//!
//! Every document lives in the installation's own account (`""`), addressed by the trail's ARN:
//!
//! | kind | id | value |
//! |---|---|---|
//! | [`TRAIL_KIND`] | trail ARN | [`Trail`] |
//! | [`TRAIL_STATUS_KIND`] | trail ARN | [`TrailStatus`] |
//! | [`TRAIL_CURSOR_KIND`] | trail ARN | [`TrailCursor`] |
//! | [`TRAIL_LOG_KIND`] | [`trail_log_id`] | [`DeliveredLog`] |
//!
//! The API handlers write [`Trail`]; delivery writes [`TrailCursor`], [`DeliveredLog`] and the
//! delivery half of [`TrailStatus`]; the digest worker writes its half of [`TrailStatus`] and
//! deletes the [`DeliveredLog`] entries it has sealed. Every writer changes a document by
//! reading and writing it inside one store transaction (the store runs them one at a time), so
//! no writer loses another's change.

use serde::{Deserialize, Serialize};

pub const TRAIL_KIND: &str = "trail";
pub const TRAIL_STATUS_KIND: &str = "trail_status";
pub const TRAIL_CURSOR_KIND: &str = "trail_cursor";
pub const TRAIL_LOG_KIND: &str = "trail_log";

/// A trail, as `CreateTrail` made it and later calls changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    /// Tells this trail apart from an earlier one of the same ARN (deleted, then created
    /// again): delivery bookkeeping of the old one must not apply to the new one.
    pub id: String,
    pub name: String,
    /// `arn:aws:cloudtrail:<home-region>:<account>:trail/<name>`.
    pub arn: String,
    pub account_id: String,
    pub home_region: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    /// As given: a topic name or a topic ARN.
    pub sns_topic_name: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region_trail: bool,
    pub is_organization_trail: bool,
    /// The `o-…` id, for organization trails.
    pub organization_id: Option<String>,
    pub log_file_validation_enabled: bool,
    pub kms_key_id: Option<String>,
    pub cloud_watch_logs_log_group_arn: Option<String>,
    pub cloud_watch_logs_role_arn: Option<String>,
    /// Echoed as set; billtrail's own delivery makes no events, so it changes nothing.
    pub recursive_logging: Option<bool>,
    pub is_logging: bool,
    pub selectors: Selectors,
    pub tags: Vec<Tag>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds of the latest `StartLogging`.
    pub start_logging_time: Option<i64>,
    /// Unix seconds of the latest `StopLogging`.
    pub stop_logging_time: Option<i64>,
    /// Where in the record log the trail logged: the exact record ranges, by sequence number.
    /// Periods wholly delivered are dropped at the next `StartLogging`.
    pub logging: Vec<LoggingPeriod>,
}

/// A range of the record log during which a trail was logging: the records with
/// `after < seq <= until` (no upper bound while it still logs).
///
/// `StartLogging` opens a period at the store's last sequence number inside its transaction,
/// so its own record (appended right after) is the first one logged; `StopLogging` closes it
/// one past that number, so its own record is the last one. Sequence numbers follow the
/// commit order exactly, unlike event times, which several records share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingPeriod {
    pub after: u64,
    pub until: Option<u64>,
}

impl LoggingPeriod {
    pub fn contains(&self, seq: u64) -> bool {
        seq > self.after && self.until.is_none_or(|u| seq <= u)
    }
}

/// A tag, in the wire's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// What a trail logs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Selectors {
    /// Never set: every management event, read and write.
    #[default]
    Default,
    Basic(Vec<EventSelector>),
    Advanced(Vec<AdvancedEventSelector>),
}

/// A basic event selector, with AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelector {
    #[serde(default)]
    pub read_write_type: ReadWriteType,
    #[serde(default = "yes")]
    pub include_management_events: bool,
    #[serde(default)]
    pub data_resources: Vec<DataResource>,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for EventSelector {
    /// What `GetEventSelectors` shows for a trail that never had selectors set.
    fn default() -> Self {
        EventSelector {
            read_write_type: ReadWriteType::All,
            include_management_events: true,
            data_resources: Vec::new(),
            exclude_management_event_sources: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ReadWriteType {
    ReadOnly,
    WriteOnly,
    #[default]
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedEventSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

/// One condition: every operator given must hold. `Equals`, `StartsWith` and `EndsWith` hold
/// when one of their values matches; the `Not…` ones when none does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedFieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

/// How a trail's deliveries went, for `GetTrailStatus`. Times are Unix seconds.
///
/// Delivery writes the `latest_delivery_*` and `latest_notification_*` fields; the digest
/// worker writes the `latest_digest_*` ones. An error is cleared by the next success of the
/// same kind, so it shows a problem that is still there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrailStatus {
    pub latest_delivery_time: Option<i64>,
    pub latest_delivery_attempt_time: Option<i64>,
    pub latest_delivery_attempt_succeeded: Option<i64>,
    pub latest_delivery_error: Option<String>,
    pub latest_notification_time: Option<i64>,
    pub latest_notification_attempt_time: Option<i64>,
    pub latest_notification_attempt_succeeded: Option<i64>,
    pub latest_notification_error: Option<String>,
    pub latest_digest_delivery_time: Option<i64>,
    pub latest_digest_delivery_error: Option<String>,
}

/// Where a trail's delivery stands in the record log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailCursor {
    /// The [`Trail::id`] this cursor belongs to.
    pub trail_id: String,
    /// Every record with `seq <= delivered` has been delivered (or was not selected).
    pub delivered: u64,
    /// A batch whose objects may already be in the bucket, but whose cursor move has not
    /// committed. A retry delivers exactly this batch again, so it rewrites the same objects.
    pub pending: Option<PendingBatch>,
}

/// A batch fixed before its objects are written: the records `cursor.delivered < seq <= last`,
/// selected and laid out by the trail as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBatch {
    pub last: u64,
    pub trail: Trail,
    /// The organization's accounts, for an organization trail.
    pub accounts: Option<Vec<String>>,
}

/// A log file delivered for a trail with log file validation on, waiting for its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredLog {
    pub trail_arn: String,
    pub account_id: String,
    pub region: String,
    pub bucket: String,
    pub key: String,
    /// Hex SHA-256 of the uncompressed JSON.
    pub sha256_hex: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub oldest_event_time: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub newest_event_time: String,
    /// Unix seconds: when the delivery committed.
    pub delivered_at: i64,
}

/// The id of a [`DeliveredLog`]: ordered by trail, account, region, then delivery time.
pub fn trail_log_id(log: &DeliveredLog) -> String {
    format!(
        "{}|{}|{}|{:020}|{}",
        log.trail_arn, log.account_id, log.region, log.delivered_at, log.key
    )
}

/// The parts of a trail ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    pub name: &'a str,
}

/// Reads `arn:aws:cloudtrail:<region>:<account>:trail/<name>`; `None` when it is not one.
pub fn parse_trail_arn(arn: &str) -> Option<TrailArn<'_>> {
    let rest = arn.strip_prefix("arn:aws:cloudtrail:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account_id, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("trail/")?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit());
    (region_ok && account_ok && !name.is_empty()).then_some(TrailArn {
        region,
        account_id,
        name,
    })
}

pub fn trail_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account_id}:trail/{name}")
}

impl Trail {
    /// The SNS topic's ARN: as given when it is one, else in the trail's home region and
    /// account.
    pub fn sns_topic_arn(&self) -> Option<String> {
        let topic = self.sns_topic_name.as_deref()?;
        Some(if topic.starts_with("arn:") {
            topic.to_string()
        } else {
            format!(
                "arn:aws:sns:{}:{}:{topic}",
                self.home_region, self.account_id
            )
        })
    }

    /// Whether the trail is seen in `region`: its home region, or any region for a
    /// multi-region trail (there it is a shadow trail).
    pub fn visible_in(&self, region: &str) -> bool {
        self.is_multi_region_trail || self.home_region == region
    }

    /// Whether the trail still has records to deliver after `delivered`: it logs, or a past
    /// period reaches beyond the cursor.
    pub fn has_work_after(&self, delivered: u64) -> bool {
        self.logging
            .iter()
            .any(|p| p.until.is_none_or(|u| u > delivered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_arns_parse_and_print() {
        let arn = trail_arn("us-east-2", "123456789012", "MyTrail");
        assert_eq!(
            arn,
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail"
        );
        assert_eq!(
            parse_trail_arn(&arn),
            Some(TrailArn {
                region: "us-east-2",
                account_id: "123456789012",
                name: "MyTrail"
            })
        );
        for bad in [
            "",
            "MyTrail",
            "arn:aws:cloudtrail:us-east-2:12345678901:trail/x",
            "arn:aws:cloudtrail:us-east-2:123456789012:eventdatastore/x",
            "arn:aws:cloudtrail::123456789012:trail/x",
            "arn:aws:cloudtrail:US:123456789012:trail/x",
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/",
            "arn:aws:s3:us-east-2:123456789012:trail/x",
        ] {
            assert_eq!(parse_trail_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn periods_are_exact_ranges() {
        let open = LoggingPeriod {
            after: 10,
            until: None,
        };
        assert!(!open.contains(10));
        assert!(open.contains(11));
        assert!(open.contains(u64::MAX));
        let closed = LoggingPeriod {
            after: 10,
            until: Some(12),
        };
        assert!(closed.contains(12));
        assert!(!closed.contains(13));
    }

    #[test]
    fn default_selector_is_all_management_events() {
        let s: EventSelector = serde_json::from_str("{}").expect("defaults");
        assert_eq!(s, EventSelector::default());
        assert_eq!(
            serde_json::to_value(&s).expect("json"),
            serde_json::json!({
                "ReadWriteType": "All",
                "IncludeManagementEvents": true,
                "DataResources": [],
                "ExcludeManagementEventSources": []
            })
        );
    }

    #[test]
    fn trail_log_ids_sort_by_delivery_time() {
        let log = |at: i64| DeliveredLog {
            trail_arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            bucket: "b".into(),
            key: "k".into(),
            sha256_hex: String::new(),
            oldest_event_time: String::new(),
            newest_event_time: String::new(),
            delivered_at: at,
        };
        assert!(trail_log_id(&log(9)) < trail_log_id(&log(10)));
        assert_eq!(
            trail_log_id(&log(1_700_000_000)),
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/t|123456789012|us-east-1|00000000001700000000|k"
        );
    }
}
