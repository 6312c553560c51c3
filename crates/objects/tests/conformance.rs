//! One conformance suite, written against `dyn ObjectStore`, run against every store:
//! the local store always, an S3-compatible server when one is given, and `Buckets` routing
//! to each.
//!
//! The S3 runs need a server: `eval "$(scripts/s3-server)"` starts one (s3s-fs) and exports
//! `BILLTRAIL_TEST_S3_ENDPOINT`, `BILLTRAIL_TEST_S3_ACCESS_KEY` and
//! `BILLTRAIL_TEST_S3_SECRET_KEY` (optionally `BILLTRAIL_TEST_S3_REGION`, default us-east-1,
//! `BILLTRAIL_TEST_S3_PATH_STYLE`, default true, and `BILLTRAIL_TEST_S3_SERVER=s3s-fs`, which
//! allows for s3s-fs's known departures from S3). Without them the S3 tests say so loudly
//! and pass, except under `CI=true`, where they fail: CI must never skip them silently.

use std::collections::BTreeMap;
use std::sync::Arc;

use billtrail_objects::{
    list_all, BucketConfig, Buckets, ListRequest, LocalStore, Metadata, ObjectError, ObjectStore,
    S3Store, SecretString,
};
use bytes::Bytes;
use md5::{Digest, Md5};

fn md5_hex(b: &[u8]) -> String {
    Md5::digest(b).iter().map(|b| format!("{b:02x}")).collect()
}

fn meta(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Keys whose byte order differs from a naive folder walk's ('-' and '!' sort before '/').
const KEYS: &[&str] = &[
    "AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/123456789012_CloudTrail_us-east-1_20240102T0000Z_aaaaaaaaaaaaaaaa.json.gz",
    "AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/123456789012_CloudTrail_us-east-1_20240102T0005Z_bbbbbbbbbbbbbbbb.json.gz",
    "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/02/d.json.gz",
    "Z",
    "a!",
    "a-c",
    "a/b",
    "a/c/d",
    "a/c/e",
    "ab",
    "b",
    "sp ace/x y",
    "\u{e9}/x",
];

fn sorted_keys() -> Vec<String> {
    let mut k: Vec<String> = KEYS.iter().map(|s| s.to_string()).collect();
    k.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    k
}

/// What a listing shows, in order: keys, and common prefixes marked with a trailing `*`.
fn entries(l: &billtrail_objects::Listing) -> Vec<String> {
    let mut out: Vec<String> = l.objects.iter().map(|o| o.key.clone()).collect();
    out.extend(l.common_prefixes.iter().map(|p| format!("{p}*")));
    out.sort_by(|a, b| {
        a.trim_end_matches('*')
            .as_bytes()
            .cmp(b.trim_end_matches('*').as_bytes())
    });
    out
}

async fn list(
    s: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
    max_keys: usize,
) -> billtrail_objects::Listing {
    s.list(
        bucket,
        &ListRequest {
            prefix,
            delimiter,
            start_after,
            max_keys,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("list {prefix:?} {delimiter:?} {start_after:?}: {e}"))
}

/// Every entry, page by page of `max_keys`, each page checked for its size.
async fn paged(
    s: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    max_keys: usize,
) -> Vec<String> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..100 {
        let page = list(s, bucket, prefix, delimiter, after.as_deref(), max_keys).await;
        let got = entries(&page);
        assert!(
            got.len() <= max_keys,
            "page of {} for max_keys {max_keys}",
            got.len()
        );
        all.extend(got);
        if !page.truncated {
            return all;
        }
        after = Some(
            page.last_entry()
                .expect("a truncated page has entries")
                .to_string(),
        );
    }
    panic!("listing never ended");
}

/// Where a server departs from S3 in ways no client can paper over.
#[derive(Clone, Copy)]
struct Deviations {
    /// PUT into a missing bucket creates it instead of failing with NoSuchBucket (s3s-fs).
    put_creates_bucket: bool,
    /// Listings carry no ETag (s3s-fs).
    listings_lack_etags: bool,
    /// A reader racing an overwrite may get the new body with the old metadata or the other
    /// way round (s3s-fs writes the two files one after the other).
    torn_overwrites: bool,
}

const S3: Deviations = Deviations {
    put_creates_bucket: false,
    listings_lack_etags: false,
    torn_overwrites: false,
};

/// The deviations of the server under test: `BILLTRAIL_TEST_S3_SERVER=s3s-fs` (which
/// scripts/s3-server exports) names s3s-fs's.
fn server_deviations() -> Deviations {
    match std::env::var("BILLTRAIL_TEST_S3_SERVER").as_deref() {
        Ok("s3s-fs") => Deviations {
            put_creates_bucket: true,
            listings_lack_etags: true,
            torn_overwrites: true,
        },
        _ => S3,
    }
}

/// The suite. `bucket` exists and is empty; `missing` names a bucket that does not exist,
/// served by `missing_store`.
async fn suite(
    s: &dyn ObjectStore,
    bucket: &str,
    missing_store: &dyn ObjectStore,
    missing: &str,
    dev: Deviations,
) {
    // Bucket facts.
    assert!(s.bucket_exists(bucket).await.expect("exists"));
    assert!(!missing_store.bucket_exists(missing).await.expect("exists"));
    assert!(s
        .list_buckets()
        .await
        .expect("buckets")
        .contains(&bucket.to_string()));
    assert!(
        matches!(
            s.create_bucket(bucket).await,
            Err(ObjectError::BucketExists(_))
        ),
        "creating an existing bucket"
    );
    let empty = list(s, bucket, "", None, None, 0).await;
    assert!(empty.objects.is_empty() && !empty.truncated);

    // Round trip with metadata.
    let body = Bytes::from_static(b"{\"Records\":[]}");
    let m = meta(&[
        ("signature", "0a1b2c"),
        ("signature-algorithm", "SHA256withRSA"),
    ]);
    s.put(bucket, "a/b", body.clone(), &m).await.expect("put");
    let got = s.get(bucket, "a/b").await.expect("get");
    assert_eq!(got.body, body);
    assert_eq!(got.meta.key, "a/b");
    assert_eq!(got.meta.size, body.len() as u64);
    assert_eq!(got.meta.etag, format!("\"{}\"", md5_hex(&body)));
    assert_eq!(got.meta.metadata, m);
    assert!(
        (got.meta.last_modified - now()).abs() < 300,
        "last_modified {} is not now",
        got.meta.last_modified
    );
    let head = s.head(bucket, "a/b").await.expect("head");
    assert_eq!(head, got.meta, "head says what get says");

    // Overwriting replaces body and metadata whole: no key of the old metadata survives.
    let body2 = Bytes::from_static(b"second, longer body");
    let m2 = meta(&[("other", "x")]);
    s.put(bucket, "a/b", body2.clone(), &m2).await.expect("put");
    let got = s.get(bucket, "a/b").await.expect("get");
    assert_eq!(got.body, body2);
    assert_eq!(got.meta.metadata, m2);
    assert_eq!(got.meta.size, body2.len() as u64);
    s.put(bucket, "a/b", Bytes::new(), &Metadata::new())
        .await
        .expect("empty put");
    let got = s.get(bucket, "a/b").await.expect("get");
    assert!(got.body.is_empty() && got.meta.metadata.is_empty());
    assert_eq!(got.meta.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");

    // A bigger body.
    let big: Vec<u8> = (0..(1 << 20) + 7).map(|i| (i % 251) as u8).collect();
    s.put(
        bucket,
        "big/object",
        Bytes::from(big.clone()),
        &Metadata::new(),
    )
    .await
    .expect("put big");
    assert_eq!(
        s.get(bucket, "big/object").await.expect("get").body,
        &big[..]
    );
    s.delete(bucket, "big/object").await.expect("delete");

    // Missing keys and buckets.
    for r in [
        s.get(bucket, "no/such/key").await.map(|_| ()),
        s.head(bucket, "no/such/key").await.map(|_| ()),
    ] {
        assert!(matches!(r, Err(ObjectError::NoSuchKey(_))), "{r:?}");
    }
    for r in [
        missing_store.get(missing, "k").await.map(|_| ()),
        missing_store.head(missing, "k").await.map(|_| ()),
        missing_store
            .list(missing, &ListRequest::default())
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(r, Err(ObjectError::NoSuchBucket(_))), "{r:?}");
    }
    if !dev.put_creates_bucket {
        let r = missing_store
            .put(missing, "k", Bytes::from_static(b"x"), &Metadata::new())
            .await;
        assert!(matches!(r, Err(ObjectError::NoSuchBucket(_))), "{r:?}");
    }

    // Keys that could name something outside the bucket are refused, never written.
    for key in [
        "../escape",
        "/abs",
        "a/../../escape",
        "a//b",
        "",
        ".",
        "a/./b",
        "a/",
    ] {
        let r = s
            .put(bucket, key, Bytes::from_static(b"x"), &Metadata::new())
            .await;
        assert!(
            matches!(r, Err(ObjectError::InvalidKey(_))),
            "put {key:?}: {r:?}"
        );
        let r = s.get(bucket, key).await.map(|_| ());
        assert!(
            matches!(r, Err(ObjectError::InvalidKey(_))),
            "get {key:?}: {r:?}"
        );
    }
    for name in ["..", "../x", "Upper", "a", "x/y"] {
        let r = s.create_bucket(name).await;
        assert!(
            matches!(r, Err(ObjectError::InvalidBucketName(_))),
            "bucket {name:?}: {r:?}"
        );
    }
    let r = s
        .put(bucket, "k", Bytes::new(), &meta(&[("Not A Token", "x")]))
        .await;
    assert!(matches!(r, Err(ObjectError::InvalidMetadata(_))), "{r:?}");

    // Listings.
    s.delete(bucket, "a/b").await.expect("delete");
    let mut shuffled: Vec<&str> = KEYS.to_vec();
    shuffled.reverse();
    shuffled.swap(0, 5);
    for k in shuffled {
        s.put(
            bucket,
            k,
            Bytes::from(k.as_bytes().to_vec()),
            &meta(&[("k", "v")]),
        )
        .await
        .unwrap_or_else(|e| panic!("put {k:?}: {e}"));
    }
    let all = sorted_keys();
    let l = list(s, bucket, "", None, None, 0).await;
    let keys: Vec<String> = l.objects.iter().map(|o| o.key.clone()).collect();
    assert_eq!(keys, all, "byte order");
    assert!(!l.truncated && l.common_prefixes.is_empty());
    for o in &l.objects {
        assert_eq!(o.size, o.key.len() as u64);
        if !(dev.listings_lack_etags && o.etag == "\"\"") {
            assert_eq!(o.etag, format!("\"{}\"", md5_hex(o.key.as_bytes())));
        }
    }
    assert_eq!(
        list_all(s, bucket, "")
            .await
            .expect("list_all")
            .into_iter()
            .map(|o| o.key)
            .collect::<Vec<_>>(),
        all
    );

    let under =
        |p: &str| -> Vec<String> { all.iter().filter(|k| k.starts_with(p)).cloned().collect() };
    for prefix in [
        "a/",
        "a",
        "AWSLogs/123456789012/CloudTrail/",
        "AWSLogs/1",
        "zzz",
        "a/c/d",
    ] {
        let l = list(s, bucket, prefix, None, None, 0).await;
        assert_eq!(entries(&l), under(prefix), "prefix {prefix:?}");
    }

    // Delimiter: common prefixes up to and including it.
    let l = list(s, bucket, "", Some("/"), None, 0).await;
    assert_eq!(
        entries(&l),
        [
            "AWSLogs/*",
            "Z",
            "a!",
            "a-c",
            "a/*",
            "ab",
            "b",
            "sp ace/*",
            "\u{e9}/*"
        ]
    );
    let l = list(s, bucket, "a/", Some("/"), None, 0).await;
    assert_eq!(entries(&l), ["a/b", "a/c/*"]);
    let l = list(s, bucket, "AWSLogs/123456789012/", Some("/"), None, 0).await;
    assert_eq!(
        l.common_prefixes,
        [
            "AWSLogs/123456789012/CloudTrail-Digest/",
            "AWSLogs/123456789012/CloudTrail/"
        ],
        "'-' sorts before '/'"
    );
    let l = list(
        s,
        bucket,
        "AWSLogs/123456789012/CloudTrail",
        Some("/"),
        None,
        0,
    )
    .await;
    assert_eq!(
        l.common_prefixes,
        [
            "AWSLogs/123456789012/CloudTrail-Digest/",
            "AWSLogs/123456789012/CloudTrail/"
        ]
    );

    // start_after: strictly after, whether or not the key exists.
    let after = |s: &str| -> Vec<String> {
        all.iter()
            .filter(|k| k.as_bytes() > s.as_bytes())
            .cloned()
            .collect()
    };
    for start in [
        "a/b",
        "a/bb",
        "a",
        "",
        "\u{e9}/x",
        "AWSLogs/123456789012/CloudTrail/",
    ] {
        let l = list(s, bucket, "", None, Some(start), 0).await;
        assert_eq!(entries(&l), after(start), "start_after {start:?}");
    }
    // A common prefix as start_after skips what it rolls up.
    let l = list(s, bucket, "", Some("/"), Some("a/"), 0).await;
    assert_eq!(entries(&l), ["ab", "b", "sp ace/*", "\u{e9}/*"]);

    // max_keys, truncation, and paging by last_entry.
    let l = list(s, bucket, "", None, None, 3).await;
    assert_eq!(l.objects.len(), 3);
    assert!(l.truncated);
    let l = list(s, bucket, "a/", None, None, 3).await;
    assert_eq!(l.objects.len(), 3);
    assert!(!l.truncated, "exactly max_keys left: not truncated");
    for n in [1, 2, 5] {
        assert_eq!(paged(s, bucket, "", None, n).await, all, "pages of {n}");
    }
    let whole = entries(&list(s, bucket, "", Some("/"), None, 0).await);
    for n in [1, 2, 4] {
        assert_eq!(
            paged(s, bucket, "", Some("/"), n).await,
            whole,
            "pages of {n} with a delimiter"
        );
    }

    // Deleting.
    s.delete(bucket, "a/c/d").await.expect("delete");
    s.delete(bucket, "a/c/d")
        .await
        .expect("deleting again is fine");
    assert!(matches!(
        s.get(bucket, "a/c/d").await,
        Err(ObjectError::NoSuchKey(_))
    ));
    let l = list(s, bucket, "a/c/", None, None, 0).await;
    assert_eq!(entries(&l), ["a/c/e"]);
    s.delete(bucket, "a/c/e").await.expect("delete");
    let l = list(s, bucket, "a/", Some("/"), None, 0).await;
    assert_eq!(
        entries(&l),
        ["a/b"],
        "no common prefix for an emptied folder"
    );
}

/// Readers racing a writer see whole objects: the metadata always describes the body.
async fn replace_while_reading(s: Arc<dyn ObjectStore>, bucket: &str) {
    let bucket = bucket.to_string();
    let put = |i: usize| {
        let body = format!("version {i} {}", "x".repeat(i * 13 % 1000));
        let m = meta(&[("md5", &md5_hex(body.as_bytes()))]);
        (Bytes::from(body), m)
    };
    let (b, m) = put(0);
    s.put(&bucket, "race/k", b, &m).await.expect("put");
    let writer = {
        let (s, bucket) = (s.clone(), bucket.clone());
        tokio::spawn(async move {
            for i in 1..60 {
                let (b, m) = put(i);
                s.put(&bucket, "race/k", b, &m).await.expect("put");
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() || reads < 20 {
        let o = s.get(&bucket, "race/k").await.expect("get");
        assert_eq!(
            o.meta.metadata.get("md5").map(String::as_str),
            Some(md5_hex(&o.body).as_str()),
            "a body with another body's metadata"
        );
        assert_eq!(o.meta.size, o.body.len() as u64);
        let h = s.head(&bucket, "race/k").await.expect("head");
        assert_eq!(
            h.etag,
            format!("\"{}\"", h.metadata.get("md5").expect("md5"))
        );
        reads += 1;
    }
    writer.await.expect("writer");
    s.delete(&bucket, "race/k").await.expect("delete");
}

// ---------------------------------------------------------------------------------------------
// Local store

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_conforms() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().join("data/buckets");
    let store = LocalStore::new(&root);
    store.create_bucket("trail-bucket").await.expect("create");
    suite(&store, "trail-bucket", &store, "no-such-bucket", S3).await;
    // A folder of keys is no object (s3s-fs, for one, answers 500 to this).
    store
        .put("trail-bucket", "f/g", Bytes::new(), &Metadata::new())
        .await
        .expect("put");
    assert!(matches!(
        store.get("trail-bucket", "f").await,
        Err(ObjectError::NoSuchKey(_))
    ));
    replace_while_reading(Arc::new(store.clone()), "trail-bucket").await;
    // Nothing was written outside the buckets folder.
    let outside: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .expect("data")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(outside, ["buckets"]);
    assert!(!dir.path().join("escape").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_route_local_buckets_to_the_local_store() {
    let dir = tempfile::tempdir().expect("tmp");
    let buckets = Buckets::new(dir.path().join("buckets"), BTreeMap::new()).expect("buckets");
    buckets.create_bucket("local-one").await.expect("create");
    suite(&buckets, "local-one", &buckets, "no-such-bucket", S3).await;
    assert!(dir.path().join("buckets/local-one/AWSLogs").is_dir());
}

// ---------------------------------------------------------------------------------------------
// S3-compatible server

/// The test server's configuration, or `None` (loudly) when none is given; under `CI=true`
/// a missing server fails the test.
fn s3_config() -> Option<BucketConfig> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(endpoint), Some(access), Some(secret)) = (
        var("BILLTRAIL_TEST_S3_ENDPOINT"),
        var("BILLTRAIL_TEST_S3_ACCESS_KEY"),
        var("BILLTRAIL_TEST_S3_SECRET_KEY"),
    ) else {
        let msg = "\n\n!!! S3 CONFORMANCE NOT RUN: set BILLTRAIL_TEST_S3_ENDPOINT, \
                   BILLTRAIL_TEST_S3_ACCESS_KEY and BILLTRAIL_TEST_S3_SECRET_KEY \
                   (eval \"$(scripts/s3-server)\" starts a server and prints them) !!!\n";
        eprintln!("{msg}");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true: the S3 conformance suite must run against a real S3 server{msg}");
        }
        return None;
    };
    Some(BucketConfig {
        endpoint: Some(endpoint),
        region: var("BILLTRAIL_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key_id: access,
        secret_access_key: SecretString::new(secret),
        path_style: var("BILLTRAIL_TEST_S3_PATH_STYLE").as_deref() != Some("false"),
    })
}

fn fresh_name(tag: &str) -> String {
    let n: u32 = rand::random();
    format!("bt-{tag}-{n:08x}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_conforms() {
    let Some(config) = s3_config() else { return };
    let bucket = fresh_name("conf");
    let store = S3Store::new(&bucket, &config).expect("store");
    assert!(!store.bucket_exists(&bucket).await.expect("exists"));
    store.create_bucket(&bucket).await.expect("create bucket");
    let missing_name = fresh_name("missing");
    let missing = S3Store::new(&missing_name, &config).expect("store");
    let dev = server_deviations();
    suite(&store, &bucket, &missing, &missing_name, dev).await;
    if dev.torn_overwrites {
        eprintln!("this S3 server tears racing overwrites: replace_while_reading not run");
    } else {
        replace_while_reading(Arc::new(store), &bucket).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_route_configured_buckets_to_s3() {
    let Some(config) = s3_config() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let remote = fresh_name("routed");
    let buckets = Buckets::new(
        dir.path().join("buckets"),
        BTreeMap::from([(remote.clone(), config)]),
    )
    .expect("buckets");
    buckets.create_bucket(&remote).await.expect("create");
    assert!(
        !dir.path().join("buckets").join(&remote).exists(),
        "a configured bucket is not a folder"
    );
    suite(
        &buckets,
        &remote,
        &buckets,
        "no-such-bucket",
        server_deviations(),
    )
    .await;
    buckets.create_bucket("local-too").await.expect("create");
    assert!(dir.path().join("buckets/local-too").is_dir());
    let names = buckets.list_buckets().await.expect("list");
    assert!(names.contains(&remote) && names.contains(&"local-too".to_string()));
}

#[tokio::test]
async fn unreachable_s3_is_a_retryable_storage_error() {
    let config = BucketConfig {
        endpoint: Some("http://127.0.0.1:9".into()),
        access_key_id: "AKIAEXAMPLE".into(),
        secret_access_key: SecretString::new("x"),
        path_style: true,
        ..BucketConfig::default()
    };
    let s = S3Store::new("down-bucket", &config).expect("store");
    for r in [
        s.get("down-bucket", "k").await.map(|_| ()),
        s.head("down-bucket", "k").await.map(|_| ()),
        s.list("down-bucket", &ListRequest::default())
            .await
            .map(|_| ()),
        s.create_bucket("down-bucket").await,
    ] {
        assert!(
            matches!(&r, Err(e @ ObjectError::Storage(_)) if e.is_retryable()),
            "{r:?}"
        );
    }
}
