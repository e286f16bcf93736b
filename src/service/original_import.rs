//! `import-original`: brings a bucket (or folder) of the original Python system into this
//! one. Images are checked like uploads and stored under `images/`; each `files/<stem>.txt`
//! line becomes one anonymous vote in `labels/<image>.txt`, with an answer id derived from
//! the source, file and line (`domain::original`), appended with conditional writes, so a
//! second run imports nothing twice. The source is only ever read.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::backend::{BackendError, ObjectStore};
use crate::domain::keys;
use crate::domain::names::display_safe;
use crate::domain::original::{read_file, stem_map, stem_of_label_key};
use crate::service::context::AppContext;
use crate::service::image_check::ImageRejection;
use crate::service::label_index::IndexWriter;
use crate::service::label_writes::append_with_retry;
use crate::service::upload::{UploadResult, upload_bytes};

/// Where the original data is read from.
#[derive(Clone)]
pub enum OriginalSource {
    /// A bucket, through an object store opened on it; the name is `s3://<bucket>`.
    Bucket {
        store: Arc<dyn ObjectStore>,
        name: String,
    },
    /// A folder laid out like the bucket (images at its root, `files/` beside them).
    Dir(PathBuf),
}

/// A file of the source: its key (relative, `/`-separated) and size.
#[derive(Debug, Clone)]
struct SourceFile {
    key: String,
    size: u64,
}

impl OriginalSource {
    /// Part of every imported answer id: `s3://bucket`, or the folder's full path.
    pub fn describe(&self) -> String {
        match self {
            OriginalSource::Bucket { name, .. } => name.clone(),
            OriginalSource::Dir(dir) => std::fs::canonicalize(dir)
                .unwrap_or_else(|_| dir.clone())
                .display()
                .to_string(),
        }
    }

    /// Files directly under `prefix` (not in deeper folders), sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<SourceFile>, ImportError> {
        let mut files = match self {
            OriginalSource::Bucket { store, .. } => store
                .list_all(prefix)
                .await
                .map_err(|e| ImportError::Source(format!("cannot list {prefix:?}: {e}")))?
                .into_iter()
                .map(|o| SourceFile {
                    key: o.key,
                    size: o.size,
                })
                .collect(),
            OriginalSource::Dir(dir) => list_dir(dir, prefix)?,
        };
        files.retain(|f| {
            f.key
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        });
        files.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(files)
    }

    async fn get(&self, key: &str) -> Result<Bytes, ImportError> {
        match self {
            OriginalSource::Bucket { store, .. } => match store.get(key).await {
                Ok(Some(o)) => Ok(o.bytes),
                Ok(None) => Err(ImportError::Source(format!(
                    "{key} vanished while importing"
                ))),
                Err(e) => Err(ImportError::Source(format!("cannot read {key}: {e}"))),
            },
            OriginalSource::Dir(dir) => tokio::fs::read(dir.join(key))
                .await
                .map(Bytes::from)
                .map_err(|e| {
                    ImportError::Source(format!("cannot read {}: {e}", dir.join(key).display()))
                }),
        }
    }
}

fn list_dir(dir: &Path, prefix: &str) -> Result<Vec<SourceFile>, ImportError> {
    let sub = match prefix.rfind('/') {
        Some(i) => &prefix[..i],
        None => "",
    };
    let folder = if sub.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(sub)
    };
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !sub.is_empty() => {
            return Ok(Vec::new());
        }
        Err(e) => {
            return Err(ImportError::Source(format!(
                "cannot list {}: {e}",
                folder.display()
            )));
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if !meta.is_file() || name.starts_with('.') {
            continue;
        }
        let key = if sub.is_empty() {
            name
        } else {
            format!("{sub}/{name}")
        };
        out.push(SourceFile {
            key,
            size: meta.len(),
        });
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the original data: {0}")]
    Source(String),
    #[error("writing into this installation: {0}")]
    Target(#[from] BackendError),
}

/// Where the images and label files are in the source.
#[derive(Debug, Clone)]
pub struct ImportLayout {
    /// Prefix of the images ("" = the root).
    pub images_prefix: String,
    /// Prefix of the label files, `files/` in the original.
    pub labels_prefix: String,
}

/// What one image of the source became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedImage {
    pub source: String,
    pub result: UploadResult,
}

/// A label file whose votes were not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelProblem {
    pub key: String,
    pub reason: String,
}

/// Everything `import` did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub source: String,
    pub images: Vec<ImportedImage>,
    pub label_files: usize,
    /// Votes written by this run.
    pub votes_imported: u64,
    /// Votes already there from an earlier run.
    pub votes_already_there: u64,
    /// (label key, 1-based line) of lines that are not a bare 0 / 1.
    pub unreadable_lines: Vec<(String, usize)>,
    pub label_problems: Vec<LabelProblem>,
}

impl ImportReport {
    fn count(&self, f: impl Fn(&UploadResult) -> bool) -> usize {
        self.images.iter().filter(|i| f(&i.result)).count()
    }

    /// Anything the user has to look at: rejected images, votes that found no image.
    pub fn has_problems(&self) -> bool {
        !self.label_problems.is_empty()
            || self.count(|r| matches!(r, UploadResult::Rejected { .. })) > 0
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported from {} (only read)",
            display_safe(&self.source)
        )?;
        writeln!(
            f,
            "images: {} found, {} stored, {} renamed (another image had the name), {} already here, {} rejected",
            self.images.len(),
            self.count(|r| matches!(r, UploadResult::Stored { .. })),
            self.count(|r| matches!(r, UploadResult::Renamed { .. })),
            self.count(|r| matches!(r, UploadResult::Duplicate { .. })),
            self.count(|r| matches!(r, UploadResult::Rejected { .. })),
        )?;
        for i in &self.images {
            match &i.result {
                UploadResult::Renamed { name } => writeln!(
                    f,
                    "  renamed  {} to images/{}",
                    display_safe(&i.source),
                    display_safe(name)
                )?,
                UploadResult::Rejected { reason } => {
                    writeln!(f, "  rejected {}: {reason}", display_safe(&i.source))?
                }
                _ => {}
            }
        }
        writeln!(
            f,
            "labels: {} files, {} votes imported (anonymous, one per line), {} already imported, {} unreadable lines skipped",
            self.label_files,
            self.votes_imported,
            self.votes_already_there,
            self.unreadable_lines.len()
        )?;
        for (key, line) in self.unreadable_lines.iter().take(20) {
            writeln!(f, "  {}:{line}: not a bare 0 or 1", display_safe(key))?;
        }
        if self.unreadable_lines.len() > 20 {
            writeln!(f, "  … {} more", self.unreadable_lines.len() - 20)?;
        }
        for p in &self.label_problems {
            writeln!(f, "  {}: {}", display_safe(&p.key), p.reason)?;
        }
        Ok(())
    }
}

/// Imports images, then their votes. Progress goes to `progress(done, total, current)`.
pub async fn import(
    ctx: &AppContext,
    source: &OriginalSource,
    layout: &ImportLayout,
    progress: impl Fn(usize, usize, &str),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        source: source.describe(),
        ..ImportReport::default()
    };
    let images = source.list(&layout.images_prefix).await?;
    let label_files = source.list(&layout.labels_prefix).await?;
    let total = images.len() + label_files.len();
    let mut stored: Vec<(String, String)> = Vec::new();
    let mut rejected: HashMap<String, String> = HashMap::new();
    for (i, file) in images.iter().enumerate() {
        let name = file.key[layout.images_prefix.len()..].to_string();
        progress(i, total, &file.key);
        let result = if file.size > ctx.max_image_bytes {
            UploadResult::Rejected {
                reason: ImageRejection::TooBig {
                    size: file.size,
                    limit: ctx.max_image_bytes,
                }
                .to_string(),
            }
        } else {
            upload_bytes(ctx, &name, source.get(&file.key).await?).await
        };
        match &result {
            UploadResult::Stored { name: to }
            | UploadResult::Renamed { name: to }
            | UploadResult::Duplicate { name: to } => stored.push((name.clone(), to.clone())),
            UploadResult::Rejected { reason } => {
                rejected.insert(name.clone(), reason.clone());
            }
        }
        report.images.push(ImportedImage {
            source: file.key.clone(),
            result,
        });
    }
    let targets = stem_map(&stored);
    // Stems of rejected images, to say why their votes stay behind.
    let rejected_stems: HashMap<String, String> = rejected
        .keys()
        .map(|n| {
            (
                crate::domain::names::split_extension(n).0.to_string(),
                n.clone(),
            )
        })
        .collect();
    let at = crate::service::labeller::now_rfc3339();
    let described = source.describe();
    let mut indexed = Vec::new();
    for (i, file) in label_files.iter().enumerate() {
        progress(images.len() + i, total, &file.key);
        let Some(stem) = stem_of_label_key(&file.key, &layout.labels_prefix) else {
            continue;
        };
        report.label_files += 1;
        let bytes = source.get(&file.key).await?;
        let original = read_file(&described, &file.key, &bytes, &at);
        report.unreadable_lines.extend(
            original
                .unreadable_lines
                .iter()
                .map(|l| (file.key.clone(), *l)),
        );
        let votes = original.answers.len();
        let Some(image) = targets.targets.get(stem) else {
            let reason = match (targets.ambiguous.get(stem), rejected_stems.get(stem)) {
                (Some(names), _) => format!(
                    "{votes} votes not imported: several images have the stem \"{}\" ({}), so which one they belong to is unknown",
                    display_safe(stem),
                    names
                        .iter()
                        .map(|n| display_safe(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (None, Some(name)) => format!(
                    "{votes} votes not imported: their image {} was rejected",
                    display_safe(name)
                ),
                (None, None) => format!(
                    "{votes} votes not imported: no image named \"{}.<extension>\" in the source",
                    display_safe(stem)
                ),
            };
            report.label_problems.push(LabelProblem {
                key: file.key.clone(),
                reason,
            });
            continue;
        };
        if original.answers.is_empty() {
            continue;
        }
        let outcome = append_with_retry(
            ctx.backend.store.as_ref(),
            &keys::label_file(image),
            &original.answers,
        )
        .await?;
        report.votes_imported += outcome.added as u64;
        report.votes_already_there += outcome.already_there as u64;
        indexed.extend(outcome.index_update(image));
    }
    // One write per index shard for the whole import.
    IndexWriter::new(ctx.backend.store.clone())
        .record(indexed)
        .await?;
    progress(total, total, "");
    Ok(report)
}
