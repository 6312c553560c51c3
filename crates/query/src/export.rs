//! Downloads of event history as CSV or JSON.
//!
//! Input is the `Events` items of `LookupEvents` responses, so the same code serves the CLI
//! (which pages through the API) and the web console.
//!
//! CSV columns, in order (AWS does not publish the console's layout, so this one is ours):
//!
//! | column | from |
//! |---|---|
//! | Event ID | `eventID` |
//! | Event time | `eventTime` (ISO 8601, UTC) |
//! | User name | `Username` of the event |
//! | Event name | `eventName` |
//! | Event source | `eventSource` |
//! | AWS region | `awsRegion` |
//! | Source IP address | `sourceIPAddress` |
//! | AWS access key | `AccessKeyId` of the event |
//! | Read only | `readOnly` |
//! | Error code | `errorCode`, empty on success |
//! | Resources | `Type:Name` pairs joined with `;` |
//! | CloudTrail event | the whole record, compact JSON |
//!
//! Cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) are prefixed with `'`, against CSV injection.
//!
//! The JSON download is `{"Records":[...]}`, the records themselves, as in a trail's log file.

use std::io::Write;

use serde_json::Value;

pub const CSV_HEADER: [&str; 12] = [
    "Event ID",
    "Event time",
    "User name",
    "Event name",
    "Event source",
    "AWS region",
    "Source IP address",
    "AWS access key",
    "Read only",
    "Error code",
    "Resources",
    "CloudTrail event",
];

/// The record inside a `LookupEvents` event (its `CloudTrailEvent` string), parsed.
pub fn record_of(event: &Value) -> Value {
    event
        .get("CloudTrailEvent")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn defuse(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

/// One CSV row for a `LookupEvents` event.
pub fn csv_row(event: &Value) -> Vec<String> {
    let r = record_of(event);
    let resources = event
        .get("Resources")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    format!(
                        "{}:{}",
                        text(i.get("ResourceType")),
                        text(i.get("ResourceName"))
                    )
                })
                .collect::<Vec<_>>()
                .join(";")
        })
        .unwrap_or_default();
    [
        text(event.get("EventId")),
        text(r.get("eventTime")),
        text(event.get("Username")),
        text(event.get("EventName")),
        text(event.get("EventSource")),
        text(r.get("awsRegion")),
        text(r.get("sourceIPAddress")),
        text(event.get("AccessKeyId")),
        text(r.get("readOnly")),
        text(r.get("errorCode")),
        resources,
        text(event.get("CloudTrailEvent")),
    ]
    .into_iter()
    .map(defuse)
    .collect()
}

/// Writes events as CSV, header first.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> csv::Result<Self> {
        let mut inner = csv::Writer::from_writer(out);
        inner.write_record(CSV_HEADER)?;
        Ok(CsvWriter { inner })
    }
    pub fn write(&mut self, event: &Value) -> csv::Result<()> {
        self.inner.write_record(csv_row(event))
    }
    pub fn finish(mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes events as `{"Records":[...]}`, streaming.
pub struct JsonWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"{\"Records\":[")?;
        Ok(JsonWriter { out, first: true })
    }
    pub fn write(&mut self, event: &Value) -> std::io::Result<()> {
        let record = event
            .get("CloudTrailEvent")
            .and_then(Value::as_str)
            .unwrap_or("null");
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        self.out.write_all(record.as_bytes())
    }
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.write_all(b"]}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        let record = json!({"eventVersion": "1.11", "eventTime": "2026-11-25T10:00:00Z", "awsRegion": "us-east-1",
            "sourceIPAddress": "127.0.0.1", "readOnly": false, "errorCode": "ValidationException", "eventName": "=cmd"});
        json!({"EventId": "e1", "EventName": "=cmd", "Username": "root", "EventSource": "billingconsole.amazonaws.com",
            "AccessKeyId": "AKIA1", "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "t"}],
            "CloudTrailEvent": record.to_string()})
    }

    #[test]
    fn csv_has_header_and_defused_cells() {
        let mut buf = Vec::new();
        let mut w = CsvWriter::new(&mut buf).expect("csv");
        w.write(&event()).expect("row");
        w.finish().expect("flush");
        let text = String::from_utf8(buf).expect("utf8");
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            rd.headers().expect("header").iter().collect::<Vec<_>>(),
            CSV_HEADER
        );
        let row = rd.records().next().expect("row").expect("row");
        assert_eq!(&row[0], "e1");
        assert_eq!(&row[1], "2026-11-25T10:00:00Z");
        assert_eq!(&row[3], "'=cmd", "formula-like cells are defused");
        assert_eq!(&row[8], "false");
        assert_eq!(&row[9], "ValidationException");
        assert_eq!(&row[10], "AWS::CloudTrail::Trail:t");
    }

    #[test]
    fn json_download_is_a_records_file() {
        let mut buf = Vec::new();
        let mut w = JsonWriter::new(&mut buf).expect("json");
        w.write(&event()).expect("one");
        w.write(&event()).expect("two");
        w.finish().expect("finish");
        let v: Value = serde_json::from_slice(&buf).expect("valid JSON");
        assert_eq!(v["Records"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["Records"][0]["eventVersion"], "1.11");
    }
}
