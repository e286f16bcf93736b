//! Objects as files. Keys map to paths component by component, with `/`, `\`, `%`, control
//! characters and a leading `.` percent-encoded, so no key can leave `objects/`. Writes go to
//! a temp file and are renamed into place; conditional writes hold one of 64 striped file
//! locks so they are serialised across processes. ETag = SHA-256 of the content, cached by
//! (inode, mtime, size) so listing thousands of files does not re-read them.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{io_error, private_dir};
use crate::backend::{
    BackendError, ETag, Fetched, ListPage, Missing, Object, ObjectMeta, ObjectStore, PutCondition,
    Result,
};

const LOCK_STRIPES: u64 = 64;
const PAGE_SIZE: usize = 1000;
const MAX_KEY_BYTES: usize = 1024;
const MAX_CACHED_ETAGS: usize = 200_000;

#[derive(Clone)]
pub struct LocalStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    locks: PathBuf,
    etags: Mutex<HashMap<PathBuf, (Stamp, ETag)>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    mtime_ns: i128,
    size: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            ino: meta.ino(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            size: meta.size(),
        }
    }
}

pub fn etag_of(bytes: &[u8]) -> ETag {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn encode_component(c: &str) -> String {
    let mut out = String::with_capacity(c.len());
    for (i, ch) in c.chars().enumerate() {
        let needs = matches!(ch, '/' | '\\' | '%') || ch.is_control() || (i == 0 && ch == '.');
        if needs {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

fn decode_component(c: &str) -> Option<String> {
    let bytes = c.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Content type from the key's extension (the local store keeps no metadata beside files).
pub fn content_type_for(key: &str) -> &'static str {
    let lower = key.to_ascii_lowercase();
    match lower.rsplit('.').next() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("txt") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

impl LocalStore {
    pub fn open(data_dir: &Path) -> Result<LocalStore> {
        let root = data_dir.join("objects");
        let locks = data_dir.join("locks");
        private_dir(&root)?;
        private_dir(&locks)?;
        Ok(LocalStore {
            inner: Arc::new(Inner {
                root,
                locks,
                etags: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| BackendError::Other(format!("local store task failed: {e}")))?
    }
}

impl Inner {
    fn path_of(&self, key: &str) -> Result<PathBuf> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES || key.contains('\0') {
            return Err(BackendError::Invalid(format!(
                "object key must be 1 to {MAX_KEY_BYTES} bytes without NUL"
            )));
        }
        let mut path = self.root.clone();
        for component in key.split('/') {
            if component.is_empty() {
                return Err(BackendError::Invalid(
                    "object key has an empty path component".into(),
                ));
            }
            let encoded = encode_component(component);
            if encoded.len() > 255 {
                return Err(BackendError::Invalid(
                    "object key component is longer than 255 bytes".into(),
                ));
            }
            path.push(encoded);
        }
        Ok(path)
    }

    fn key_of(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let mut parts = Vec::new();
        for c in rel.components() {
            let s = c.as_os_str().to_str()?;
            if s.starts_with('.') {
                return None; // temp files and anything not written by us
            }
            parts.push(decode_component(s)?);
        }
        Some(parts.join("/"))
    }

    /// The ETag of the file at `path`, from the cache when the file is unchanged.
    fn etag_at(&self, path: &Path, meta: &std::fs::Metadata) -> std::io::Result<ETag> {
        let stamp = Stamp::of(meta);
        if let Ok(cache) = self.etags.lock()
            && let Some((s, e)) = cache.get(path)
            && *s == stamp
        {
            return Ok(e.clone());
        }
        let bytes = std::fs::read(path)?;
        let etag = etag_of(&bytes);
        self.remember(path, stamp, &etag);
        Ok(etag)
    }

    fn remember(&self, path: &Path, stamp: Stamp, etag: &ETag) {
        if let Ok(mut cache) = self.etags.lock() {
            // A long-running worker writes a log object per request: keep the cache bounded
            // (a miss only costs re-hashing the file).
            if cache.len() >= MAX_CACHED_ETAGS && !cache.contains_key(path) {
                cache.clear();
            }
            cache.insert(path.to_path_buf(), (stamp, etag.clone()));
        }
    }

    fn read(&self, key: &str) -> Result<Option<Object>> {
        let path = self.path_of(key)?;
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&format!("read {key}"), &e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| io_error(&format!("read {key}"), &e))?;
        let mut bytes = Vec::with_capacity(meta.size() as usize);
        std::io::Read::read_to_end(&mut &file, &mut bytes)
            .map_err(|e| io_error(&format!("read {key}"), &e))?;
        let etag = etag_of(&bytes);
        self.remember(&path, Stamp::of(&meta), &etag);
        Ok(Some(Object {
            bytes: Bytes::from(bytes),
            etag,
            content_type: Some(content_type_for(key).to_string()),
        }))
    }

    fn current_etag(&self, path: &Path, key: &str) -> Result<Option<ETag>> {
        match std::fs::metadata(path) {
            Ok(meta) => self
                .etag_at(path, &meta)
                .map(Some)
                .map_err(|e| io_error(&format!("read {key}"), &e)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&format!("read {key}"), &e)),
        }
    }

    fn lock_for(&self, key: &str) -> Result<File> {
        let digest = Sha256::digest(key.as_bytes());
        let stripe = u64::from_le_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ]) % LOCK_STRIPES;
        let path = self.locks.join(format!("{stripe:02}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io_error("open a lock file", &e))?;
        file.lock().map_err(|e| io_error("take a lock", &e))?;
        Ok(file) // unlocked when dropped
    }

    fn write(&self, key: &str, bytes: &[u8], condition: &PutCondition) -> Result<ETag> {
        let path = self.path_of(key)?;
        let _lock = match condition {
            PutCondition::None => None,
            _ => Some(self.lock_for(key)?),
        };
        match condition {
            PutCondition::None => {}
            PutCondition::IfAbsent => {
                if self.current_etag(&path, key)?.is_some() {
                    return Err(BackendError::PreconditionFailed);
                }
            }
            PutCondition::IfMatch(expected) => match self.current_etag(&path, key)? {
                Some(actual) if &actual == expected => {}
                Some(_) => return Err(BackendError::PreconditionFailed),
                None => {
                    return Err(BackendError::NotFound {
                        what: Missing::Object(key.to_string()),
                    });
                }
            },
        }
        let dir = path
            .parent()
            .ok_or_else(|| BackendError::Invalid("object key has no parent".into()))?;
        private_dir(dir)?;
        let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(bytes)?;
            let meta = f.metadata()?;
            std::fs::rename(&tmp, &path)?;
            Ok::<_, std::io::Error>(meta)
        })();
        match result {
            Ok(meta) => {
                let etag = etag_of(bytes);
                self.remember(&path, Stamp::of(&meta), &etag);
                Ok(etag)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp); // best effort: the write already failed
                Err(io_error(&format!("write {key}"), &e))
            }
        }
    }

    /// All keys under `prefix`, sorted, with ETags.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        // Walk from the deepest directory the prefix names in full.
        let dir_part = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let start = if dir_part.is_empty() {
            self.root.clone()
        } else {
            match self.path_of(dir_part) {
                Ok(p) => p,
                Err(_) => return Ok(Vec::new()),
            }
        };
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(&format!("list {}", dir.display()), &e)),
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    continue; // removed while we listed
                };
                if meta.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !meta.is_file() {
                    continue;
                }
                let Some(key) = self.key_of(&path) else {
                    continue;
                };
                if !key.starts_with(prefix) {
                    continue;
                }
                match self.etag_at(&path, &meta) {
                    Ok(etag) => out.push(ObjectMeta {
                        key,
                        etag,
                        size: meta.size(),
                    }),
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error(&format!("read {key}"), &e)),
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        _content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag> {
        let key = key.to_string();
        self.blocking(move |s| s.write(&key, &bytes, &condition))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Object>> {
        let key = key.to_string();
        self.blocking(move |s| s.read(&key)).await
    }

    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched> {
        let key = key.to_string();
        let etag = etag.to_string();
        self.blocking(move |s| {
            let path = s.path_of(&key)?;
            match s.current_etag(&path, &key)? {
                None => Ok(Fetched::Missing),
                Some(current) if current == etag => Ok(Fetched::Unchanged),
                Some(_) => Ok(match s.read(&key)? {
                    Some(o) => Fetched::Changed(o),
                    None => Fetched::Missing,
                }),
            }
        })
        .await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        let key = key.to_string();
        self.blocking(move |s| {
            let path = s.path_of(&key)?;
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error(&format!("read {key}"), &e)),
            };
            let etag = s
                .etag_at(&path, &meta)
                .map_err(|e| io_error(&format!("read {key}"), &e))?;
            Ok(Some(ObjectMeta {
                key,
                etag,
                size: meta.size(),
            }))
        })
        .await
    }

    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ListPage> {
        let prefix = prefix.to_string();
        self.blocking(move |s| {
            let all = s.list(&prefix)?;
            let start = match &continuation {
                Some(after) => all.partition_point(|m| m.key.as_str() <= after.as_str()),
                None => 0,
            };
            let objects: Vec<ObjectMeta> =
                all.into_iter().skip(start).take(PAGE_SIZE + 1).collect();
            let mut objects = objects;
            let next = if objects.len() > PAGE_SIZE {
                objects.truncate(PAGE_SIZE);
                objects.last().map(|m| m.key.clone())
            } else {
                None
            };
            Ok(ListPage { objects, next })
        })
        .await
    }

    async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let prefix = prefix.to_string();
        self.blocking(move |s| s.list(&prefix)).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let key = key.to_string();
        self.blocking(move |s| {
            let path = s.path_of(&key)?;
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_error(&format!("delete {key}"), &e)),
            }
        })
        .await
    }

    async fn ensure_bucket(&self) -> Result<bool> {
        let root = self.inner.root.clone();
        let existed = root.exists();
        private_dir(&root)?;
        Ok(!existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let inner = &store.inner;
        for key in [
            "../x",
            "images/../../etc/passwd",
            "images/..",
            "./a",
            "a/.b",
        ] {
            let p = inner.path_of(key).unwrap();
            assert!(p.starts_with(&inner.root), "{key} -> {}", p.display());
            assert!(!p.components().any(|c| c.as_os_str() == ".."), "{key}");
            assert_eq!(inner.key_of(&p).as_deref(), Some(key));
        }
        assert!(inner.path_of("a//b").is_err());
        assert!(inner.path_of("a\0b").is_err());
        assert!(inner.path_of("").is_err());
        let p = inner.path_of("images/a\\b%c\u{1b}d").unwrap();
        assert_eq!(inner.key_of(&p).as_deref(), Some("images/a\\b%c\u{1b}d"));
    }
}
