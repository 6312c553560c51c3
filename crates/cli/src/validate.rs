//! `billtrail validate`: checks a trail's digest and log files, like
//! `aws cloudtrail validate-logs` and more (see `billtrail_digest::validate`).
//!
//! Where it reads from: the trail (bucket, prefix, organization) and the region's public keys
//! come from the data dir's store, opened **read-only** (safe while the server runs, and
//! working while it does not), exactly what `DescribeTrails` and `ListPublicKeys` would
//! answer. The files come from the bucket itself: the data dir's local buckets
//! (`DATA_DIR/buckets/<bucket>`), or, with `--s3-endpoint-url`, an S3-compatible endpoint,
//! signed with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (or the server's
//! `BILLTRAIL_BUCKETS_<NAME>_*` variables). No call goes through the server's API, so
//! validation is not recorded as events and is as fast as the disk.
//!
//! This module parses arguments and prints; the checks are `billtrail_digest::validate`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use billtrail_digest::format::TrailLocation;
use billtrail_digest::validate::{validate, ValidateOptions};
use billtrail_objects::{BucketConfig, Buckets, ObjectStore, SecretString};
use billtrail_store::sqlite::SqliteReader;
use billtrail_store::{Key, ReadSide};
use billtrail_trail::{Trail, TRAIL_KIND};
use clap::Args;
use time::OffsetDateTime;

use crate::DataDir;

#[derive(Args)]
pub struct ValidateArgs {
    /// The ARN of the trail whose files to validate.
    #[arg(long)]
    trail_arn: String,
    /// Validate files delivered on or after this UTC time, e.g. 2026-01-08T05:21:42Z.
    #[arg(long)]
    start_time: String,
    /// Validate files delivered on or before this UTC time (default: now).
    #[arg(long)]
    end_time: Option<String>,
    /// The bucket holding the digests, if not the trail's (the trail is then not looked up).
    #[arg(long)]
    s3_bucket: Option<String>,
    /// The key prefix of the digests, with --s3-bucket.
    #[arg(long)]
    s3_prefix: Option<String>,
    /// The account whose files to validate (organization trails: a member account).
    #[arg(long)]
    account_id: Option<String>,
    /// Also print every valid file.
    #[arg(long)]
    verbose: bool,
    /// The region whose files to validate (default: the trail's home region), as the AWS
    /// CLI's --region.
    #[arg(long)]
    region: Option<String>,
    #[command(flatten)]
    data: DataDir,
    /// Read the bucket from this S3-compatible endpoint instead of DATA_DIR/buckets.
    #[arg(long, value_name = "URL")]
    s3_endpoint_url: Option<String>,
    /// The region requests to --s3-endpoint-url are signed for.
    #[arg(long, default_value = "us-east-1")]
    s3_region: String,
    /// Address the endpoint virtual-hosted style (bucket.host) instead of path style.
    #[arg(long)]
    s3_virtual_hosted: bool,
    /// Files fetched and hashed at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// No progress bar (there is none either when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// Runs the validation; `Ok(false)` when something is invalid (exit status 1).
pub fn run(args: ValidateArgs) -> Result<bool, String> {
    let start = parse_time(&args.start_time)?;
    let end = match &args.end_time {
        Some(e) => parse_time(e)?,
        None => OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::now_utc()),
    };
    if start > end {
        return Err("Invalid time range specified: start-time must occur before end-time".into());
    }
    let arn = &args.trail_arn;
    if !arn_is_valid(arn) {
        return Err(format!("Invalid trail ARN provided: {arn}"));
    }
    let fields: Vec<&str> = arn.split(':').collect();
    let home_region = fields.get(3).copied().unwrap_or_default().to_string();
    let arn_account = fields.get(4).copied().unwrap_or_default().to_string();
    let trail_name = arn.rsplit('/').next().unwrap_or_default().to_string();

    let data_dir = &args.data.data_dir;
    let reader = SqliteReader::open_read_only(&data_dir.join("store"))
        .map_err(|e| format!("reading the data dir {}: {e}", data_dir.display()))?;
    let (bucket, prefix, organization_id) = match &args.s3_bucket {
        Some(b) => (b.clone(), args.s3_prefix.clone(), None),
        None => {
            let text = reader
                .get(&Key::global(TRAIL_KIND, arn))
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("A trail could not be found for {arn}"))?;
            let trail: Trail = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let org = trail
                .organization_id
                .clone()
                .filter(|_| trail.is_organization_trail);
            if org.is_some() && args.account_id.is_none() {
                return Err(
                    "Missing required parameter for organization trail: '--account-id'".into(),
                );
            }
            (trail.s3_bucket_name, trail.s3_key_prefix, org)
        }
    };
    let region = args.region.clone().unwrap_or_else(|| home_region.clone());
    let location = TrailLocation {
        bucket: bucket.clone(),
        prefix: prefix.filter(|p| !p.is_empty()),
        organization_id,
        account_id: args.account_id.clone().unwrap_or(arn_account),
        region: region.clone(),
        trail_name,
        home_region,
    };
    let public_keys =
        billtrail_digest::keys::public_keys(&reader, &region, i64::MIN / 4, i64::MAX / 4)
            .map_err(|e| e.to_string())?;
    let objects = object_store(&args, &bucket)?;

    let mut opts = ValidateOptions::new(arn.clone(), location, start, end, public_keys);
    opts.concurrency = args.concurrency.max(1);
    if !args.no_progress && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} log files {pos}/{len} [{bar:30}] {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        opts.progress = bar;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime
        .block_on(validate(objects.as_ref(), &opts))
        .map_err(|e| e.to_string())?;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    report
        .write(&mut out, &mut err, args.verbose)
        .map_err(|e| e.to_string())?;
    Ok(report.is_valid())
}

/// The local buckets of the data dir, with `bucket` on the S3 endpoint when one is given.
fn object_store(args: &ValidateArgs, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
    let mut remote = BTreeMap::new();
    if let Some(endpoint) = &args.s3_endpoint_url {
        let config = BucketConfig {
            endpoint: Some(endpoint.clone()),
            region: args.s3_region.clone(),
            access_key_id: std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
            secret_access_key: SecretString::new(
                std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
            ),
            path_style: !args.s3_virtual_hosted,
        }
        .with_env(bucket, std::env::vars())
        .map_err(|e| e.to_string())?;
        config.validate(bucket).map_err(|e| e.to_string())?;
        remote.insert(bucket.to_string(), config);
    }
    let root: PathBuf = args.data.data_dir.join("buckets");
    Ok(Arc::new(
        Buckets::new(root, remote).map_err(|e| e.to_string())?,
    ))
}

/// `arn:.+:cloudtrail:.+:\d{12}:trail/.+`, the CLI's check.
fn arn_is_valid(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return false;
    };
    let Some(i) = rest.find(":cloudtrail:") else {
        return false;
    };
    if i == 0 {
        return false;
    }
    let rest = rest.get(i + ":cloudtrail:".len()..).unwrap_or_default();
    // <region>:<12 digits>:trail/<name>
    let parts: Vec<&str> = rest.splitn(3, ':').collect();
    matches!(parts.as_slice(), [region, account, tail]
        if !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && tail.strip_prefix("trail/").is_some_and(|n| !n.is_empty()))
}

/// A UTC time: RFC 3339 (`2026-01-08T05:21:42Z`, an offset or fraction allowed), the same
/// without a zone (taken as UTC, as the CLI does), or a date alone (midnight UTC).
fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    let naive = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let spaced = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    for f in [naive, spaced] {
        if let Ok(t) = time::PrimitiveDateTime::parse(s.trim_end_matches('Z'), &f) {
            return Ok(t.assume_utc());
        }
    }
    let date = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &date) {
        return Ok(d.midnight().assume_utc());
    }
    Err(format!("Unable to parse date value: {s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_checked_as_the_cli_does() {
        assert!(arn_is_valid(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/foo"
        ));
        assert!(!arn_is_valid(
            "arn:aws:cloudtrail:us-east-1:12345678901:trail/foo"
        ));
        assert!(!arn_is_valid(
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/"
        ));
        assert!(!arn_is_valid("foo"));
    }

    #[test]
    fn times_parse_as_utc() {
        let t = parse_time("2026-01-08T05:21:42Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1_767_849_702);
        assert_eq!(parse_time("2026-01-08T05:21:42").unwrap(), t);
        assert_eq!(parse_time("2026-01-08 05:21:42").unwrap(), t);
        assert_eq!(parse_time("2026-01-08T07:21:42+02:00").unwrap(), t);
        assert_eq!(
            parse_time("2026-01-08").unwrap().unix_timestamp(),
            1_767_830_400
        );
        assert!(parse_time("yesterday").is_err());
    }
}
