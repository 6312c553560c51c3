//! [`LocalStore`]: buckets as folders under the data dir, the embedded default.
//!
//! # Layout
//!
//! ```text
//! <root>/<bucket>/                                  a bucket is a folder
//! <root>/<bucket>/<key>                              the object's body, as a plain file
//! <root>/<bucket>/<key>.billtrail-meta.json          its metadata ("sidecar")
//! <root>/<bucket>/<dir>/.billtrail-tmp-<random>      a write in progress (or one a crash cut short)
//! ```
//!
//! So `zcat <root>/<bucket>/AWSLogs/.../x.json.gz` works, and so does copying a bucket folder
//! with any tool. Sidecars and temporary files are never listed, and keys that would name them
//! are refused, as are keys whose path is taken by a folder of other keys (`a` beside `a/b`).
//! A file placed in a bucket folder by hand is served too, with its MD5 as ETag and no
//! metadata.
//!
//! # Why a body never shows with another body's metadata
//!
//! Two files cannot be renamed into place at once, so the sidecar is a tiny journal: it
//! describes the body just written (`current`) *and* the body it replaces (`previous`), each
//! identified by its file's inode number, which a rename keeps. A `put`, holding the key's
//! lock (one writer per key in this process; nothing else writes objects):
//!
//! 1. writes the new body to a temporary file beside the target and fsyncs it;
//! 2. writes the sidecar `{generation+1, current: new body, previous: the body now in place}`
//!    to a temporary file, fsyncs it, and renames it over the old sidecar;
//! 3. renames the new body over the old one, and fsyncs the folder.
//!
//! At every instant, crash or not, the body in place is the sidecar's `current` or its
//! `previous`. A reader reads the sidecar, opens the body and reads it through that handle,
//! then looks at the sidecar again: if it is another file (a sidecar is only ever replaced by a
//! rename, so its inode, size and time say so without reading it), a writer got in between and
//! the reader starts over; if not, the opened body's inode says
//! which of the two entries describes it. After a crash between steps 2 and 3 readers keep
//! seeing the old object, whole, and the next `put` records it as `previous` again.
//!
//! `put` returns only after both files and the folder are fsynced: the object is durable.
//! Where inode numbers do not exist (not Unix), the body's MD5 tells the entries apart.
//!
//! Deleting removes the body first, then the sidecar: a sidecar without a body is no object.
//! Temporary files a crash leaves behind are hidden, and harmless; removing them by hand while
//! the server is stopped is safe.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::{
    validate_bucket_name, validate_key, validate_metadata, ListRequest, Listing, Metadata, Object,
    ObjectError, ObjectMeta, ObjectStore,
};

/// The sidecar of `<key>` is `<key>` + this.
pub const META_SUFFIX: &str = ".billtrail-meta.json";
/// Temporary files start with this.
pub const TMP_PREFIX: &str = ".billtrail-tmp-";
/// Longest key segment: a file name (255 bytes) less the sidecar suffix.
pub const MAX_SEGMENT_BYTES: usize = 255 - META_SUFFIX.len();
/// How often a reader starts over when writers keep replacing the object under it.
const READ_ATTEMPTS: usize = 16;
/// Striped key locks: one writer per key at a time.
const LOCK_STRIPES: usize = 64;

/// Buckets as folders under one root (`DATA_DIR/buckets`). Cheap to clone.
#[derive(Clone)]
pub struct LocalStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    locks: Vec<Mutex<()>>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("root", &self.inner.root)
            .finish()
    }
}

/// One body the sidecar describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// The body file's inode number (0 where the platform has none).
    file_id: u64,
    size: u64,
    /// Quoted hex MD5.
    etag: String,
    last_modified: i64,
    metadata: Metadata,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sidecar {
    /// Layout version of this file.
    format: u32,
    /// Grows by one with every put of the key: no two sidecars of a key are alike.
    generation: u64,
    current: Entry,
    previous: Option<Entry>,
}

const SIDECAR_FORMAT: u32 = 1;

fn storage(what: impl std::fmt::Display, e: impl std::fmt::Display) -> ObjectError {
    ObjectError::Storage(format!("{what}: {e}"))
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn unix_of(t: io::Result<SystemTime>) -> i64 {
    t.ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(unix)]
fn file_id(m: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    m.ino()
}

#[cfg(not(unix))]
fn file_id(_: &fs::Metadata) -> u64 {
    0
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex_lower(&Md5::digest(body)))
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn is_not_found(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// A name in a bucket folder that is not an object's body.
fn is_reserved_name(name: &str) -> bool {
    name.ends_with(META_SUFFIX) || name.starts_with(TMP_PREFIX)
}

/// Random hex for temporary names.
fn random_suffix() -> String {
    let n: u64 = rand::random();
    format!("{n:016x}")
}

fn fsync_dir(dir: &Path) -> Result<(), ObjectError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| storage(dir.display(), e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to a new temporary file in `dir`, fsynced; returns its path and metadata.
fn write_temp(dir: &Path, bytes: &[u8]) -> Result<(PathBuf, fs::Metadata), ObjectError> {
    let path = dir.join(format!("{TMP_PREFIX}{}", random_suffix()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        f.metadata()
    })();
    match result {
        Ok(m) => Ok((path, m)),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(storage(path.display(), e))
        }
    }
}

/// What tells two reads of a sidecar apart without reading it twice: a sidecar is only ever
/// replaced by renaming a new file over it, never written in place, so another sidecar is
/// another file (inode, size and modification time). Where there are no inode numbers (not
/// Unix), the contents themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    id: u64,
    size: u64,
    modified: Option<SystemTime>,
    contents: Vec<u8>,
}

impl Stamp {
    fn new(stat: &fs::Metadata, bytes: &[u8]) -> Stamp {
        let id = file_id(stat);
        Stamp {
            id,
            size: stat.len(),
            modified: stat.modified().ok(),
            contents: if id == 0 { bytes.to_vec() } else { Vec::new() },
        }
    }
}

/// What a reader found at a key.
struct Found {
    meta: ObjectMeta,
    body: Option<Bytes>,
}

impl Inner {
    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, ObjectError> {
        validate_bucket_name(bucket)?;
        Ok(self.root.join(bucket))
    }

    /// The bucket's folder, which must exist.
    fn existing_bucket(&self, bucket: &str) -> Result<PathBuf, ObjectError> {
        let dir = self.bucket_dir(bucket)?;
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(dir),
            Ok(_) => Err(ObjectError::NoSuchBucket(bucket.to_string())),
            Err(e) if is_not_found(&e) => Err(ObjectError::NoSuchBucket(bucket.to_string())),
            Err(e) => Err(storage(dir.display(), e)),
        }
    }

    /// Checks a key for this layout and returns its body and sidecar paths.
    fn key_paths(&self, dir: &Path, key: &str) -> Result<(PathBuf, PathBuf), ObjectError> {
        validate_key(key)?;
        for segment in key.split('/') {
            if segment.len() > MAX_SEGMENT_BYTES {
                return Err(ObjectError::InvalidKey(format!(
                    "{key:?}: a segment must be at most {MAX_SEGMENT_BYTES} bytes here"
                )));
            }
            if segment.contains(META_SUFFIX) || segment.starts_with(TMP_PREFIX) {
                return Err(ObjectError::InvalidKey(format!(
                    "{key:?}: names with {META_SUFFIX:?} or starting with {TMP_PREFIX:?} are \
                     reserved"
                )));
            }
        }
        let body = dir.join(key);
        let mut sidecar = body.clone().into_os_string();
        sidecar.push(META_SUFFIX);
        Ok((body, PathBuf::from(sidecar)))
    }

    fn lock(&self, bucket: &str, key: &str) -> std::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (bucket, key).hash(&mut h);
        let i = usize::try_from(h.finish() % LOCK_STRIPES as u64).unwrap_or(0);
        static SPARE: Mutex<()> = Mutex::new(());
        // A poisoned stripe only means another writer panicked; the files are still whole.
        match self.locks.get(i).unwrap_or(&SPARE).lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The sidecar's bytes and contents, if there is one.
    fn read_sidecar(path: &Path) -> Result<Option<(Vec<u8>, Sidecar)>, ObjectError> {
        Ok(Self::read_stamped_sidecar(path)?.map(|(bytes, sc, _)| (bytes, sc)))
    }

    /// [`Inner::read_sidecar`], with the stamp of the file it read.
    fn read_stamped_sidecar(path: &Path) -> Result<Option<(Vec<u8>, Sidecar, Stamp)>, ObjectError> {
        let read = File::open(path).and_then(|mut f| {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            let stat = f.metadata()?;
            Ok((bytes, stat))
        });
        match read {
            Ok((bytes, stat)) => {
                let sc: Sidecar = serde_json::from_slice(&bytes)
                    .map_err(|e| storage(format!("{} is corrupt", path.display()), e))?;
                if sc.format != SIDECAR_FORMAT {
                    return Err(storage(
                        path.display(),
                        format!("unknown sidecar format {}", sc.format),
                    ));
                }
                let stamp = Stamp::new(&stat, &bytes);
                Ok(Some((bytes, sc, stamp)))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(storage(path.display(), e)),
        }
    }

    /// The stamp of the sidecar now at `path`, without reading it where inodes exist.
    fn sidecar_stamp(path: &Path) -> Result<Option<Stamp>, ObjectError> {
        match fs::metadata(path) {
            Ok(stat) if file_id(&stat) != 0 => Ok(Some(Stamp::new(&stat, &[]))),
            Ok(_) => Ok(Self::read_stamped_sidecar(path)?.map(|(_, _, stamp)| stamp)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(storage(path.display(), e)),
        }
    }

    /// Reads the object at `key` consistently (see the module docs); the body only when asked.
    fn read(&self, bucket: &str, key: &str, want_body: bool) -> Result<Found, ObjectError> {
        let dir = self.existing_bucket(bucket)?;
        let (body_path, meta_path) = self.key_paths(&dir, key)?;
        let no_key = || ObjectError::NoSuchKey(key.to_string());
        for _ in 0..READ_ATTEMPTS {
            let before = Self::read_stamped_sidecar(&meta_path)?;
            let stamp = before.as_ref().map(|(_, _, stamp)| stamp.clone());
            let before = before.map(|(bytes, sc, _)| (bytes, sc));
            let mut file = match File::open(&body_path) {
                Ok(f) => f,
                Err(e) if is_not_found(&e) => {
                    if Self::sidecar_stamp(&meta_path)? == stamp {
                        return Err(no_key());
                    }
                    continue;
                }
                Err(e) => return Err(storage(body_path.display(), e)),
            };
            let stat = file
                .metadata()
                .map_err(|e| storage(body_path.display(), e))?;
            if !stat.is_file() {
                return Err(no_key());
            }
            // Hashing needs the body when there is no inode to go by.
            let need_body = want_body || before.is_none() || file_id(&stat) == 0;
            let mut body = if need_body {
                let mut buf = Vec::with_capacity(usize::try_from(stat.len()).unwrap_or(0));
                file.read_to_end(&mut buf)
                    .map_err(|e| storage(body_path.display(), e))?;
                Some(buf)
            } else {
                None
            };
            // A writer that got in between replaced the sidecar (by a rename: a new file).
            if Self::sidecar_stamp(&meta_path)? != stamp {
                continue;
            }
            let entry = match before {
                None => {
                    // A file put there by other means: its own facts, no metadata.
                    let b = body.as_deref().unwrap_or_default();
                    Entry {
                        file_id: file_id(&stat),
                        size: b.len() as u64,
                        etag: etag_of(b),
                        last_modified: unix_of(stat.modified()),
                        metadata: Metadata::new(),
                    }
                }
                Some((_, sc)) => match pick(&sc, &stat, body.as_deref()) {
                    Some(e) => e,
                    None => match edited_in_place(&sc, &stat) {
                        // The very file the sidecar describes, with another size: edited in
                        // place by hand (puts never write in place; they rename a new file over
                        // the old). Serve what it holds now, as S3 serves a replaced object:
                        // its own size and ETag, so that validation sees the change.
                        Some(known) => {
                            let b = match body.take() {
                                Some(b) => b,
                                None => {
                                    let mut buf = Vec::new();
                                    file.read_to_end(&mut buf)
                                        .map_err(|e| storage(body_path.display(), e))?;
                                    buf
                                }
                            };
                            let e = Entry {
                                file_id: known.file_id,
                                size: b.len() as u64,
                                etag: etag_of(&b),
                                last_modified: unix_of(stat.modified()),
                                metadata: known.metadata.clone(),
                            };
                            body = want_body.then_some(b);
                            e
                        }
                        // Not a body this sidecar knows: replaced under us by something else.
                        None => continue,
                    },
                },
            };
            if let Some(b) = &body {
                if b.len() as u64 != entry.size {
                    return Err(storage(
                        body_path.display(),
                        format!(
                            "holds {} bytes, its metadata says {}: the bucket folder was \
                             changed by hand",
                            b.len(),
                            entry.size
                        ),
                    ));
                }
            }
            return Ok(Found {
                meta: ObjectMeta {
                    key: key.to_string(),
                    size: entry.size,
                    last_modified: entry.last_modified,
                    etag: entry.etag,
                    metadata: entry.metadata,
                },
                body: body.map(Bytes::from),
            });
        }
        Err(ObjectError::Storage(format!(
            "{bucket}/{key} kept changing while being read, or its metadata does not describe \
             its body"
        )))
    }

    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        metadata: &Metadata,
    ) -> Result<(), ObjectError> {
        validate_metadata(metadata)?;
        let dir = self.existing_bucket(bucket)?;
        let (body_path, meta_path) = self.key_paths(&dir, key)?;
        let _guard = self.lock(bucket, key);
        let parent = body_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.clone());
        self.make_parents(&dir, key, &parent)?;
        // An empty folder left by deleted keys gives way; one with objects does not.
        if fs::symlink_metadata(&body_path).is_ok_and(|m| m.is_dir())
            && fs::remove_dir(&body_path).is_err()
        {
            return Err(ObjectError::InvalidKey(format!(
                "{key:?}: other keys already use it as a folder ({key}/...)"
            )));
        }

        let (tmp_body, tmp_stat) = write_temp(&parent, body)?;
        let result = (|| {
            let previous = self.entry_in_place(&body_path, &meta_path)?;
            let generation = match Self::read_sidecar(&meta_path) {
                Ok(Some((_, sc))) => sc.generation + 1,
                _ => 1,
            };
            let sidecar = Sidecar {
                format: SIDECAR_FORMAT,
                generation,
                current: Entry {
                    file_id: file_id(&tmp_stat),
                    size: body.len() as u64,
                    etag: etag_of(body),
                    last_modified: now_unix(),
                    metadata: metadata.clone(),
                },
                previous,
            };
            let text = serde_json::to_vec(&sidecar).map_err(|e| storage("sidecar", e))?;
            let (tmp_meta, _) = write_temp(&parent, &text)?;
            if let Err(e) = fs::rename(&tmp_meta, &meta_path) {
                let _ = fs::remove_file(&tmp_meta);
                return Err(storage(meta_path.display(), e));
            }
            fs::rename(&tmp_body, &body_path).map_err(|e| storage(body_path.display(), e))?;
            fsync_dir(&parent)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp_body);
        }
        result
    }

    /// The entry describing the body now at `body_path`, if there is one: the sidecar's
    /// current or previous entry, or, for a file placed by hand, its own facts.
    fn entry_in_place(
        &self,
        body_path: &Path,
        meta_path: &Path,
    ) -> Result<Option<Entry>, ObjectError> {
        let mut file = match File::open(body_path) {
            Ok(f) => f,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(storage(body_path.display(), e)),
        };
        let stat = file
            .metadata()
            .map_err(|e| storage(body_path.display(), e))?;
        let sidecar = Self::read_sidecar(meta_path).ok().flatten();
        if let Some((_, sc)) = &sidecar {
            if file_id(&stat) != 0 {
                if let Some(e) = pick(sc, &stat, None) {
                    return Ok(Some(e));
                }
            }
        }
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)
            .map_err(|e| storage(body_path.display(), e))?;
        if let Some((_, sc)) = &sidecar {
            if let Some(e) = pick(sc, &stat, Some(&buf)) {
                return Ok(Some(e));
            }
        }
        Ok(Some(Entry {
            file_id: file_id(&stat),
            size: buf.len() as u64,
            etag: etag_of(&buf),
            last_modified: unix_of(stat.modified()),
            metadata: Metadata::new(),
        }))
    }

    /// Creates the folders of `key` below the bucket folder, fsyncing each new one's parent.
    fn make_parents(&self, bucket_dir: &Path, key: &str, parent: &Path) -> Result<(), ObjectError> {
        if parent.is_dir() {
            return Ok(());
        }
        let segments: Vec<&str> = key.split('/').collect();
        let mut at = bucket_dir.to_path_buf();
        for (i, seg) in segments
            .iter()
            .take(segments.len().saturating_sub(1))
            .enumerate()
        {
            let next = at.join(seg);
            match fs::symlink_metadata(&next) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    let taken: Vec<&str> = segments.iter().take(i + 1).copied().collect();
                    return Err(ObjectError::InvalidKey(format!(
                        "{key:?}: {:?} is an object, so it cannot also be a folder",
                        taken.join("/")
                    )));
                }
                Err(e) if is_not_found(&e) => match fs::create_dir(&next) {
                    Ok(()) => fsync_dir(&at)?,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(storage(next.display(), e)),
                },
                Err(e) => return Err(storage(next.display(), e)),
            }
            at = next;
        }
        Ok(())
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectError> {
        let dir = self.existing_bucket(bucket)?;
        let (body_path, meta_path) = self.key_paths(&dir, key)?;
        let _guard = self.lock(bucket, key);
        if fs::symlink_metadata(&body_path).is_ok_and(|m| m.is_dir()) {
            return Ok(()); // a folder of other keys: no object by this name
        }
        for p in [&body_path, &meta_path] {
            match fs::remove_file(p) {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(storage(p.display(), e)),
            }
        }
        let Some(parent) = body_path.parent() else {
            return Ok(());
        };
        fsync_dir(parent)?;
        // Folders left empty go too (best effort: a concurrent put may have refilled one).
        let mut at = parent.to_path_buf();
        while at != dir && at.starts_with(&dir) {
            if fs::remove_dir(&at).is_err() {
                break;
            }
            match at.parent() {
                Some(p) => at = p.to_path_buf(),
                None => break,
            }
        }
        Ok(())
    }

    fn create_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        let dir = self.bucket_dir(bucket)?;
        fs::create_dir_all(&self.root).map_err(|e| storage(self.root.display(), e))?;
        match fs::create_dir(&dir) {
            Ok(()) => fsync_dir(&self.root),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(ObjectError::BucketExists(bucket.to_string()))
            }
            Err(e) => Err(storage(dir.display(), e)),
        }
    }

    fn list_buckets(&self) -> Result<Vec<String>, ObjectError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(storage(self.root.display(), e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| storage(self.root.display(), e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if validate_bucket_name(&name).is_ok() && entry.path().is_dir() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn list(&self, bucket: &str, req: &ListRequest<'_>) -> Result<Listing, ObjectError> {
        let dir = self.existing_bucket(bucket)?;
        let limit = req.page_size();
        let mut walk = Walk {
            req,
            limit,
            found: Vec::new(),
        };
        walk.dir(&dir, "")?;
        let truncated = walk.found.len() > limit;
        walk.found.truncate(limit);
        let mut listing = Listing {
            truncated,
            ..Listing::default()
        };
        for entry in walk.found {
            match entry {
                Walked::Prefix(p) => listing.common_prefixes.push(p),
                Walked::Key(k) => match self.read(bucket, &k, false) {
                    Ok(found) => listing.objects.push(ObjectMeta {
                        // As S3: listings carry no user metadata.
                        metadata: Metadata::new(),
                        ..found.meta
                    }),
                    // Deleted since the folder was read, or a file name no key can have.
                    Err(ObjectError::NoSuchKey(_) | ObjectError::InvalidKey(_)) => {}
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(listing)
    }
}

/// Which of the sidecar's entries the opened body is: by inode, or by MD5 where there is none.
fn pick(sc: &Sidecar, stat: &fs::Metadata, body: Option<&[u8]>) -> Option<Entry> {
    let candidates = std::iter::once(&sc.current).chain(sc.previous.as_ref());
    let id = file_id(stat);
    if id != 0 {
        return candidates
            .into_iter()
            .find(|e| e.file_id == id && e.size == stat.len())
            .cloned();
    }
    let body = body?;
    let etag = etag_of(body);
    candidates
        .into_iter()
        .find(|e| e.etag == etag && e.size == body.len() as u64)
        .cloned()
}

/// The sidecar's entry for the file `stat` describes, whatever its size now (Unix only: the
/// inode number is what says it is the same file).
fn edited_in_place<'s>(sc: &'s Sidecar, stat: &fs::Metadata) -> Option<&'s Entry> {
    let id = file_id(stat);
    if id == 0 {
        return None;
    }
    std::iter::once(&sc.current)
        .chain(sc.previous.as_ref())
        .find(|e| e.file_id == id)
}

enum Walked {
    Key(String),
    Prefix(String),
}

/// A depth-first walk of a bucket folder in key order, collecting up to `limit + 1` entries
/// (the one past the page says it is truncated).
struct Walk<'r, 'a> {
    req: &'r ListRequest<'a>,
    limit: usize,
    found: Vec<Walked>,
}

impl Walk<'_, '_> {
    fn full(&self) -> bool {
        self.found.len() > self.limit
    }

    /// The common prefix `key` rolls up into, if any.
    fn rollup<'k>(&self, key: &'k str) -> Option<&'k str> {
        let d = self.req.delimiter.filter(|d| !d.is_empty())?;
        let rest = key.get(self.req.prefix.len()..)?;
        let at = rest.find(d)?;
        key.get(..self.req.prefix.len() + at + d.len())
    }

    fn push_prefix(&mut self, p: &str) {
        if self.req.start_after == Some(p) {
            return;
        }
        if let Some(Walked::Prefix(last)) = self.found.last() {
            if last == p {
                return;
            }
        }
        self.found.push(Walked::Prefix(p.to_string()));
    }

    /// Walks the folder holding the keys that start with `key_prefix` (`""` or ending in '/').
    fn dir(&mut self, path: &Path, key_prefix: &str) -> Result<(), ObjectError> {
        let mut children = Vec::new();
        let entries = match fs::read_dir(path) {
            Ok(e) => e,
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(storage(path.display(), e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| storage(path.display(), e))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // not UTF-8: no key names it
            };
            if is_reserved_name(&name) {
                continue;
            }
            // Symlinks are not followed: a bucket is what is inside its folder.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                children.push((format!("{key_prefix}{name}/"), true));
            } else if kind.is_file() {
                children.push((format!("{key_prefix}{name}"), false));
            }
        }
        // Sorting folders as "name/" makes the depth-first walk visit keys in byte order.
        children.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let prefix = self.req.prefix;
        let after = self.req.start_after;
        for (key, is_dir) in children {
            if self.full() {
                return Ok(());
            }
            if is_dir {
                // Only folders that can hold keys under the prefix.
                if !(key.starts_with(prefix) || prefix.starts_with(key.as_str())) {
                    continue;
                }
                // Every key in it sorts before start_after.
                if let Some(s) = after {
                    if key.as_str() < s && !s.starts_with(key.as_str()) {
                        continue;
                    }
                }
                // Every key in it rolls up into one common prefix: find one object, no more.
                if let Some(cp) = self.rollup(&key).map(str::to_string) {
                    let all_after = after.is_none_or(|s| key.as_str() > s);
                    if all_after {
                        if subtree_has_object(&path.join(key_name(&key)))? {
                            self.push_prefix(&cp);
                        }
                        continue;
                    }
                }
                let sub = path.join(key_name(&key));
                self.dir(&sub, &key)?;
            } else {
                if !key.starts_with(prefix) {
                    continue;
                }
                if after.is_some_and(|s| key.as_str() <= s) {
                    continue;
                }
                match self.rollup(&key).map(str::to_string) {
                    Some(cp) => self.push_prefix(&cp),
                    None => self.found.push(Walked::Key(key)),
                }
            }
        }
        Ok(())
    }
}

/// The last segment of a folder's key prefix (`a/b/` → `b`).
fn key_name(key: &str) -> &str {
    let trimmed = key.strip_suffix('/').unwrap_or(key);
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

fn subtree_has_object(path: &Path) -> Result<bool, ObjectError> {
    let entries = match fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if is_not_found(&e) => return Ok(false),
        Err(e) => return Err(storage(path.display(), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| storage(path.display(), e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_reserved_name(&name) {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() || (kind.is_dir() && subtree_has_object(&entry.path())?) {
            return Ok(true);
        }
    }
    Ok(false)
}

impl LocalStore {
    /// A store whose buckets are the folders of `root` (created on the first bucket).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStore {
            inner: Arc::new(Inner {
                root: root.into(),
                locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            }),
        }
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The folder that holds `bucket` (whether or not it exists).
    pub fn bucket_path(&self, bucket: &str) -> Result<PathBuf, ObjectError> {
        self.inner.bucket_dir(bucket)
    }

    /// Runs blocking file work off the async threads.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, ObjectError> + Send + 'static,
    ) -> Result<T, ObjectError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| ObjectError::Storage(format!("file task failed: {e}")))?
    }

    // Synchronous forms, for callers outside a runtime (the CLI).

    pub fn create_bucket_blocking(&self, bucket: &str) -> Result<(), ObjectError> {
        self.inner.create_bucket(bucket)
    }

    pub fn list_buckets_blocking(&self) -> Result<Vec<String>, ObjectError> {
        self.inner.list_buckets()
    }
}

#[async_trait::async_trait]
impl ObjectStore for LocalStore {
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        metadata: &Metadata,
    ) -> Result<(), ObjectError> {
        let (bucket, key, metadata) = (bucket.to_string(), key.to_string(), metadata.clone());
        self.run(move |s| s.put(&bucket, &key, &body, &metadata))
            .await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, ObjectError> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |s| {
            let found = s.read(&bucket, &key, true)?;
            Ok(Object {
                meta: found.meta,
                body: found.body.unwrap_or_default(),
            })
        })
        .await
    }

    async fn get_each(
        &self,
        bucket: &str,
        keys: Vec<String>,
        f: crate::ProcessFn,
    ) -> Vec<crate::Processed> {
        let bucket = bucket.to_string();
        let inner = self.inner.clone();
        let n = keys.len();
        let done = tokio::task::spawn_blocking(move || {
            keys.iter()
                .map(|key| {
                    let got = inner.read(&bucket, key, true).map(|found| Object {
                        meta: found.meta,
                        body: found.body.unwrap_or_default(),
                    });
                    f(key, got)
                })
                .collect::<Vec<_>>()
        })
        .await;
        done.unwrap_or_else(|e| {
            (0..n)
                .map(|_| {
                    Box::new(ObjectError::Storage(format!("file task failed: {e}")))
                        as crate::Processed
                })
                .collect()
        })
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, ObjectError> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |s| s.read(&bucket, &key, false).map(|f| f.meta))
            .await
    }

    async fn list(&self, bucket: &str, req: &ListRequest<'_>) -> Result<Listing, ObjectError> {
        let bucket = bucket.to_string();
        let (prefix, delimiter, start_after, max_keys) = (
            req.prefix.to_string(),
            req.delimiter.map(str::to_string),
            req.start_after.map(str::to_string),
            req.max_keys,
        );
        self.run(move |s| {
            let req = ListRequest {
                prefix: &prefix,
                delimiter: delimiter.as_deref(),
                start_after: start_after.as_deref(),
                max_keys,
            };
            s.list(&bucket, &req)
        })
        .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), ObjectError> {
        let (bucket, key) = (bucket.to_string(), key.to_string());
        self.run(move |s| s.delete(&bucket, &key)).await
    }

    async fn create_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        let bucket = bucket.to_string();
        self.run(move |s| s.create_bucket(&bucket)).await
    }

    async fn bucket_exists(&self, bucket: &str) -> Result<bool, ObjectError> {
        let bucket = bucket.to_string();
        self.run(move |s| match s.existing_bucket(&bucket) {
            Ok(_) => Ok(true),
            Err(ObjectError::NoSuchBucket(_) | ObjectError::InvalidBucketName(_)) => Ok(false),
            Err(e) => Err(e),
        })
        .await
    }

    async fn list_buckets(&self) -> Result<Vec<String>, ObjectError> {
        self.run(|s| s.list_buckets()).await
    }

    async fn bucket_created(&self, bucket: &str) -> Result<Option<i64>, ObjectError> {
        let bucket = bucket.to_string();
        self.run(move |s| {
            let dir = s.existing_bucket(&bucket)?;
            let m = fs::metadata(&dir).map_err(|e| storage(dir.display(), e))?;
            // Birth time where the file system records it, else the folder's change time.
            Ok(Some(unix_of(m.created().or_else(|_| m.modified()))))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Inner) {
        let dir = tempfile::tempdir().expect("tmp");
        let inner = Inner {
            root: dir.path().join("buckets"),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        };
        inner.create_bucket("b-1").expect("bucket");
        (dir, inner)
    }

    #[test]
    fn objects_are_plain_files_with_a_sidecar() {
        let (dir, s) = store();
        let meta = Metadata::from([("signature".to_string(), "abc".to_string())]);
        s.put("b-1", "a/b/c.json.gz", b"hello", &meta).expect("put");
        let body = dir.path().join("buckets/b-1/a/b/c.json.gz");
        assert_eq!(fs::read(&body).expect("body"), b"hello");
        let sidecar = dir
            .path()
            .join("buckets/b-1/a/b/c.json.gz.billtrail-meta.json");
        let sc: Sidecar =
            serde_json::from_slice(&fs::read(sidecar).expect("sidecar")).expect("json");
        assert_eq!(sc.current.metadata, meta);
        assert_eq!(sc.current.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
        assert!(sc.previous.is_none());
        // No temporary files stay behind.
        let names: Vec<String> = fs::read_dir(dir.path().join("buckets/b-1/a/b"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    /// A crash between the sidecar's rename and the body's (step 2 and 3) leaves the new
    /// sidecar beside the old body: readers must see the old object, whole.
    #[test]
    fn crash_between_renames_shows_the_old_object_whole() {
        let (dir, s) = store();
        let old = Metadata::from([("v".to_string(), "old".to_string())]);
        s.put("b-1", "k", b"old body", &old).expect("put");
        let body_path = dir.path().join("buckets/b-1/k");
        let meta_path = dir.path().join("buckets/b-1/k.billtrail-meta.json");
        let kept = fs::read(&meta_path).expect("sidecar");

        // Simulate: write the new body to a temp file and the new sidecar, but not the rename.
        let folder = dir.path().join("buckets/b-1");
        let (tmp, stat) = write_temp(&folder, b"new body!!").expect("tmp");
        let mut sc: Sidecar = serde_json::from_slice(&kept).expect("json");
        let prev = sc.current.clone();
        sc.generation += 1;
        sc.current = Entry {
            file_id: file_id(&stat),
            size: 10,
            etag: etag_of(b"new body!!"),
            last_modified: 1,
            metadata: Metadata::from([("v".to_string(), "new".to_string())]),
        };
        sc.previous = Some(prev);
        fs::write(&meta_path, serde_json::to_vec(&sc).expect("json")).expect("write");

        let got = s.read("b-1", "k", true).expect("read");
        assert_eq!(got.body.as_deref(), Some(&b"old body"[..]));
        assert_eq!(got.meta.metadata, old);
        assert_eq!(got.meta.size, 8);

        // The temp file is invisible to listings.
        let listing = s.list("b-1", &ListRequest::default()).expect("list");
        assert_eq!(listing.objects.len(), 1);

        // The next put records the old body as `previous` and then replaces it.
        let newest = Metadata::from([("v".to_string(), "newest".to_string())]);
        s.put("b-1", "k", b"newest", &newest).expect("put");
        let got = s.read("b-1", "k", true).expect("read");
        assert_eq!(got.body.as_deref(), Some(&b"newest"[..]));
        assert_eq!(got.meta.metadata, newest);
        let sc: Sidecar = serde_json::from_slice(&fs::read(&meta_path).expect("sc")).expect("json");
        assert_eq!(
            sc.previous.map(|p| p.metadata),
            Some(old),
            "previous describes the body that was in place"
        );
        let _ = fs::remove_file(tmp);
        assert_eq!(fs::read(&body_path).expect("body"), b"newest");
    }

    /// While the sidecar is new and the body old (the window between the two renames),
    /// readers see the old object.
    #[test]
    fn a_sidecar_without_its_body_is_no_object() {
        let (dir, s) = store();
        let meta_path = dir.path().join("buckets/b-1/k.billtrail-meta.json");
        s.put("b-1", "k", b"x", &Metadata::new()).expect("put");
        fs::remove_file(dir.path().join("buckets/b-1/k")).expect("rm");
        assert!(meta_path.exists());
        assert!(matches!(
            s.read("b-1", "k", true),
            Err(ObjectError::NoSuchKey(_))
        ));
        let listing = s.list("b-1", &ListRequest::default()).expect("list");
        assert!(listing.objects.is_empty());
    }

    #[test]
    fn files_placed_by_hand_are_served() {
        let (dir, s) = store();
        fs::create_dir_all(dir.path().join("buckets/b-1/x")).expect("mkdir");
        fs::write(dir.path().join("buckets/b-1/x/hand.txt"), b"hello").expect("write");
        let got = s.read("b-1", "x/hand.txt", true).expect("read");
        assert_eq!(got.meta.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
        assert!(got.meta.metadata.is_empty());
        // ... and replaced like any object.
        s.put("b-1", "x/hand.txt", b"bye", &Metadata::new())
            .expect("put");
        assert_eq!(
            s.read("b-1", "x/hand.txt", true)
                .expect("read")
                .body
                .as_deref(),
            Some(&b"bye"[..])
        );
    }

    /// Someone appends to an object's file in place: it is served as it now is (its own size
    /// and ETag, its metadata kept), as S3 serves an object replaced with other bytes, so that
    /// log file validation reports the change instead of failing to read it.
    #[test]
    fn a_file_edited_in_place_is_served_as_it_now_is() {
        let (dir, s) = store();
        let meta = Metadata::from([("signature".to_string(), "abc".to_string())]);
        s.put("b-1", "k.json.gz", b"hello", &meta).expect("put");
        let path = dir.path().join("buckets/b-1/k.json.gz");
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b" world").expect("append");
        drop(f);
        for want_body in [true, false] {
            let got = s.read("b-1", "k.json.gz", want_body).expect("read");
            assert_eq!(got.meta.size, 11);
            assert_eq!(got.meta.etag, etag_of(b"hello world"));
            assert_eq!(got.meta.metadata, meta);
            assert_eq!(
                got.body.as_deref(),
                want_body.then_some(&b"hello world"[..])
            );
        }
    }

    #[test]
    fn reserved_and_colliding_keys_are_refused() {
        let (_dir, s) = store();
        let m = Metadata::new();
        for key in [
            "a.billtrail-meta.json",
            "a.billtrail-meta.json/b",
            ".billtrail-tmp-1",
            &"s".repeat(236),
        ] {
            assert!(
                matches!(s.put("b-1", key, b"x", &m), Err(ObjectError::InvalidKey(_))),
                "{key}"
            );
        }
        s.put("b-1", "a", b"x", &m).expect("put");
        assert!(matches!(
            s.put("b-1", "a/b", b"x", &m),
            Err(ObjectError::InvalidKey(_))
        ));
        s.put("b-1", "d/e", b"x", &m).expect("put");
        assert!(matches!(
            s.put("b-1", "d", b"x", &m),
            Err(ObjectError::InvalidKey(_))
        ));
        // Once d/e is gone, d is free (its empty folder is removed).
        s.delete("b-1", "d/e").expect("delete");
        s.put("b-1", "d", b"x", &m).expect("put");
    }
}
