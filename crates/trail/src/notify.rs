//! Delivery notifications: what AWS publishes to a trail's SNS topic, posted to a webhook.
//!
//! billtrail has no SNS. Each topic name is mapped, by configuration, to an HTTP(S) URL that
//! receives exactly what an SNS HTTP subscription would: a `Notification` envelope whose
//! `Message` is CloudTrail's `{"s3Bucket": ..., "s3ObjectKey": [...]}`, with SNS's
//! `x-amz-sns-*` headers. The envelope is not signed (there is no SNS key to sign with), so it
//! carries no `Signature` fields.
//!
//! Notifications never hold up delivery: they are sent after the batch's cursor has moved, in
//! their own task, with a few retries. The outcome goes to the trail's status
//! (`LatestNotificationTime` / `LatestNotificationError`). A notification lost to a crash is
//! not sent again (the objects it names are delivered all the same).

use std::sync::OnceLock;
use std::time::Duration;

use billtrail_store::{Key, Store};
use serde_json::json;
use time::OffsetDateTime;

use crate::model::{TrailStatus, TRAIL_KIND, TRAIL_STATUS_KIND};
use crate::Trail;

/// Attempts per notification, and the wait before each retry.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

/// One notification to send.
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    pub trail_arn: String,
    pub trail_id: String,
    pub topic_arn: String,
    /// `None` when no webhook is configured for the topic.
    pub url: Option<String>,
    pub bucket: String,
    pub keys: Vec<String>,
    /// Derived from the batch, so that a receiver can tell a repeat.
    pub message_id: String,
}

/// The webhook for a trail's topic: configured by topic name, or by topic ARN.
pub(crate) fn webhook<'a>(
    notify: &'a std::collections::BTreeMap<String, String>,
    trail: &Trail,
) -> Option<&'a String> {
    let topic = trail.sns_topic_name.as_deref()?;
    let name = topic.rsplit(':').next().unwrap_or(topic);
    notify
        .get(topic)
        .or_else(|| notify.get(name))
        .or_else(|| trail.sns_topic_arn().and_then(|arn| notify.get(&arn)))
}

/// The SNS envelope of a CloudTrail delivery notification.
pub fn envelope(
    topic_arn: &str,
    message_id: &str,
    bucket: &str,
    keys: &[String],
    now: OffsetDateTime,
) -> serde_json::Value {
    let message = json!({ "s3Bucket": bucket, "s3ObjectKey": keys }).to_string();
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": sns_time(now),
    })
}

/// `2012-05-02T00:54:06.655Z`, as SNS writes times.
fn sns_time(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Sends the notification in the background and records the outcome in the trail's status.
pub(crate) fn spawn(store: Store, n: Notification, now: OffsetDateTime) {
    tokio::spawn(async move {
        let outcome = send(&n, now).await;
        if let Err(e) = &outcome {
            tracing::warn!(trail = %n.trail_arn, error = %e, "delivery notification failed");
        }
        let done = OffsetDateTime::now_utc().unix_timestamp();
        let recorded = store
            .transact(move |t| {
                let Some(trail) = t.get::<Trail>(&Key::global(TRAIL_KIND, &n.trail_arn))? else {
                    return Ok(());
                };
                if trail.id != n.trail_id {
                    return Ok(());
                }
                let key = Key::global(TRAIL_STATUS_KIND, &n.trail_arn);
                let mut s: TrailStatus = t.get(&key)?.unwrap_or_default();
                s.latest_notification_attempt_time = Some(done);
                match outcome {
                    Ok(()) => {
                        s.latest_notification_time = Some(done);
                        s.latest_notification_attempt_succeeded = Some(done);
                        s.latest_notification_error = None;
                    }
                    Err(e) => s.latest_notification_error = Some(e),
                }
                t.put(&key, &s)
            })
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not record a notification's outcome");
        }
    });
}

async fn send(n: &Notification, now: OffsetDateTime) -> Result<(), String> {
    let Some(url) = &n.url else {
        return Err(format!(
            "No webhook is configured for SNS topic {} ([notifications] in the configuration)",
            n.topic_arn
        ));
    };
    let body = envelope(&n.topic_arn, &n.message_id, &n.bucket, &n.keys, now).to_string();
    let mut last_error = String::new();
    for attempt in 0..=BACKOFF.len() {
        if let Some(wait) = attempt.checked_sub(1).and_then(|i| BACKOFF.get(i)) {
            tokio::time::sleep(*wait).await;
        }
        let sent = client()
            .post(url)
            .header("content-type", "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", "Notification")
            .header("x-amz-sns-message-id", &n.message_id)
            .header("x-amz-sns-topic-arn", &n.topic_arn)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last_error = format!("The webhook answered HTTP {}", r.status().as_u16()),
            Err(e) => last_error = format!("The webhook could not be reached: {e}"),
        }
    }
    Err(last_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_carries_cloudtrails_message() {
        let keys = vec!["AWSLogs/1/CloudTrail/x.json.gz".to_string()];
        let now = OffsetDateTime::from_unix_timestamp(1_336_000_000).expect("time");
        let e = envelope("arn:aws:sns:us-east-1:1:t", "m-1", "b", &keys, now);
        assert_eq!(e["Type"], "Notification");
        assert_eq!(e["TopicArn"], "arn:aws:sns:us-east-1:1:t");
        assert_eq!(e["Timestamp"], "2012-05-02T23:06:40.000Z");
        let msg: serde_json::Value =
            serde_json::from_str(e["Message"].as_str().expect("string")).expect("json");
        assert_eq!(msg, json!({"s3Bucket": "b", "s3ObjectKey": keys}));
    }
}
