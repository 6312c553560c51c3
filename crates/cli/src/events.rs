//! `billtrail events`: event history from the command line.
//!
//! The commands are API clients: they sign `LookupEvents` calls with the `billtrail` profile (or
//! the usual `AWS_*` variables) and page through the answers, so every lookup is authenticated,
//! limited to the caller's own account, and recorded like any other call.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use billtrail_auth::SecretKey;
use billtrail_query::export::{CsvWriter, JsonWriter};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::DataDir;

const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Show the events that match the filters, newest first.
    Lookup {
        #[command(flatten)]
        filters: Filters,
        #[command(flatten)]
        conn: Connection,
        /// At most this many events.
        #[arg(long, default_value_t = 50)]
        max_items: usize,
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Write every event that matches the filters to a file.
    Download {
        #[command(flatten)]
        filters: Filters,
        #[command(flatten)]
        conn: Connection,
        #[arg(long, value_enum)]
        format: Format,
        /// The file to write (default: events.csv or events.json).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Args)]
pub struct Filters {
    /// A lookup attribute, KEY=VALUE, where KEY is EventId, EventName, ReadOnly, Username,
    /// ResourceType, ResourceName, EventSource or AccessKeyId. Repeat to narrow (all must match).
    #[arg(long = "attribute", value_name = "KEY=VALUE")]
    attributes: Vec<String>,
    /// Events at or after this time: RFC 3339 (2026-11-25T10:00:00Z) or an age (90m, 2h, 7d).
    #[arg(long)]
    start_time: Option<String>,
    /// Events at or before this time, in the same forms.
    #[arg(long)]
    end_time: Option<String>,
}

#[derive(Args)]
pub struct Connection {
    #[command(flatten)]
    data: DataDir,
    /// The server's URL (default: the profile's endpoint_url).
    #[arg(long, env = "BILLTRAIL_ENDPOINT")]
    endpoint_url: Option<String>,
    /// The region whose history to read.
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

pub fn run(cmd: EventsCommand) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        match cmd {
            EventsCommand::Lookup {
                filters,
                conn,
                max_items,
                output,
            } => {
                let client = Client::new(&conn)?;
                let mut events = Vec::new();
                let mut pages = Pages::new(&client, request(&filters)?);
                while events.len() < max_items {
                    let Some(page) = pages.next().await? else {
                        break;
                    };
                    events.extend(page);
                }
                events.truncate(max_items);
                match output {
                    Output::Json => crate::emit(&format!(
                        "{}\n",
                        serde_json::to_string_pretty(&json!({ "Events": events }))
                            .map_err(|e| e.to_string())?
                    )),
                    Output::Table => crate::emit(&table(&events)),
                }
                Ok(())
            }
            EventsCommand::Download {
                filters,
                conn,
                format,
                output,
            } => {
                let client = Client::new(&conn)?;
                let path = output.unwrap_or_else(|| match format {
                    Format::Csv => "events.csv".into(),
                    Format::Json => "events.json".into(),
                });
                let n = download(&client, request(&filters)?, format, &path).await?;
                eprintln!("wrote {n} events to {}", path.display());
                Ok(())
            }
        }
    })
}

/// The `LookupEvents` request body for the filters.
fn request(f: &Filters) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    let mut attrs = Vec::new();
    for a in &f.attributes {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| format!("--attribute {a}: expected KEY=VALUE"))?;
        attrs.push(json!({"AttributeKey": k, "AttributeValue": v}));
    }
    if !attrs.is_empty() {
        body.insert("LookupAttributes".into(), Value::Array(attrs));
    }
    if let Some(t) = &f.start_time {
        body.insert("StartTime".into(), json!(parse_time(t)?));
    }
    if let Some(t) = &f.end_time {
        body.insert("EndTime".into(), json!(parse_time(t)?));
    }
    Ok(body)
}

/// RFC 3339, or an age such as `2h` meaning that long ago. Returns Unix seconds.
fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let age = humantime::parse_duration(s)
        .map_err(|_| format!("{s}: not an RFC 3339 time nor an age like 2h"))?;
    Ok(OffsetDateTime::now_utc().unix_timestamp() - age.as_secs() as i64)
}

/// The events as an aligned text table.
fn table(events: &[Value]) -> String {
    let mut out = String::new();
    let cell = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            let time = e
                .get("EventTime")
                .and_then(Value::as_f64)
                .map(|t| billtrail_audit_time(t as i64))
                .unwrap_or_default();
            [
                time,
                cell(e, "EventName"),
                cell(e, "Username"),
                cell(e, "EventSource"),
                cell(e, "EventId"),
            ]
        })
        .collect();
    let header = [
        "EVENT TIME",
        "EVENT NAME",
        "USER NAME",
        "EVENT SOURCE",
        "EVENT ID",
    ];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut line = |cols: [&str; 5]| {
        let parts: Vec<String> = cols
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    if rows.is_empty() {
        out.push_str("(no events)\n");
    }
    out
}

fn billtrail_audit_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

async fn download(
    client: &Client,
    body: Map<String, Value>,
    format: Format,
    path: &Path,
) -> Result<u64, String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let out = BufWriter::new(file);
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos} events downloaded ({per_sec}) {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut pages = Pages::new(client, body);
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let n = match format {
        Format::Csv => {
            let mut w = CsvWriter::new(out).map_err(|e| e.to_string())?;
            let mut n = 0u64;
            while let Some(page) = pages.next().await? {
                for e in &page {
                    w.write(e).map_err(|e| e.to_string())?;
                }
                n += page.len() as u64;
                bar.set_position(n);
            }
            w.finish().map_err(io)?;
            n
        }
        Format::Json => {
            let mut w = JsonWriter::new(out).map_err(io)?;
            let mut n = 0u64;
            while let Some(page) = pages.next().await? {
                for e in &page {
                    w.write(e).map_err(io)?;
                }
                n += page.len() as u64;
                bar.set_position(n);
            }
            w.finish().map_err(io)?;
            n
        }
    };
    bar.finish_and_clear();
    Ok(n)
}

/// Pages of `LookupEvents`, following `NextToken`.
struct Pages<'a> {
    client: &'a Client,
    body: Map<String, Value>,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(client: &'a Client, body: Map<String, Value>) -> Self {
        Pages {
            client,
            body,
            done: false,
        }
    }

    async fn next(&mut self) -> Result<Option<Vec<Value>>, String> {
        if self.done {
            return Ok(None);
        }
        let out = self.client.lookup(&self.body).await?;
        match out.get("NextToken").and_then(Value::as_str) {
            Some(t) => {
                self.body.insert("NextToken".into(), json!(t));
            }
            None => self.done = true,
        }
        Ok(Some(
            out.get("Events")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        ))
    }
}

struct Client {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    access_key_id: String,
    secret: SecretKey,
    session_token: Option<String>,
}

/// `key = value` lines of one `[section]` of an AWS config or credentials file.
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
        } else if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
    }
    out
}

impl Client {
    fn new(conn: &Connection) -> Result<Self, String> {
        let aws = conn.data.data_dir.join("aws");
        let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "billtrail".into());
        let read = |var: &str, default: PathBuf| {
            let p = std::env::var(var).map(PathBuf::from).unwrap_or(default);
            std::fs::read_to_string(&p).unwrap_or_default()
        };
        let config = ini_section(
            &read("AWS_CONFIG_FILE", aws.join("config")),
            &format!("profile {profile}"),
        );
        let creds = ini_section(
            &read("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials")),
            &profile,
        );
        let get = |kv: &[(String, String)], k: &str| {
            kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        };
        let access_key_id = std::env::var("AWS_ACCESS_KEY_ID")
            .ok()
            .or_else(|| get(&creds, "aws_access_key_id"))
            .ok_or("no credentials: run `billtrail serve` first, or set AWS_ACCESS_KEY_ID")?;
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY")
            .ok()
            .or_else(|| get(&creds, "aws_secret_access_key"))
            .ok_or("no secret access key in the profile or AWS_SECRET_ACCESS_KEY")?;
        let session_token = std::env::var("AWS_SESSION_TOKEN")
            .ok()
            .or_else(|| get(&creds, "aws_session_token"));
        let endpoint = conn
            .endpoint_url
            .clone()
            .or_else(|| get(&config, "endpoint_url"))
            .ok_or(
                "no endpoint: pass --endpoint-url or run `billtrail serve` with this data dir",
            )?;
        Ok(Client {
            http: reqwest::Client::new(),
            endpoint: endpoint.trim_end_matches('/').to_string() + "/",
            region: conn.region.clone(),
            access_key_id,
            secret: SecretKey::new(secret),
            session_token,
        })
    }

    async fn lookup(&self, body: &Map<String, Value>) -> Result<Value, String> {
        let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert("x-amz-target", http::HeaderValue::from_static(TARGET));
        let signed = billtrail_auth::sigv4::sign(
            "POST",
            &self.endpoint,
            &headers,
            &body,
            &self.access_key_id,
            &self.secret,
            self.session_token.as_deref(),
            &self.region,
            "cloudtrail",
            OffsetDateTime::now_utc(),
        )
        .map_err(|e| e.to_string())?;
        let mut req = self.http.post(&self.endpoint).headers(headers).body(body);
        for (k, v) in signed {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.endpoint))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|_| format!("HTTP {status}: {text}"))?;
        if !status.is_success() {
            let code = v.get("__type").and_then(Value::as_str).unwrap_or("Error");
            let msg = v.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(format!("{code}: {msg}"));
        }
        Ok(v)
    }
}
