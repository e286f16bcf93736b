//! The object-store port on S3: conditional puts (If-None-Match / If-Match), conditional
//! gets (304), ListObjectsV2 paging, and creating the bucket on first use.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;

use super::{DEFAULT_REGION, Failure, Service, classify, error_chain, map_sdk, sanitize};
use crate::backend::{
    BackendError, ETag, Fetched, ListPage, Object, ObjectMeta, ObjectStore, PutCondition, Result,
};

/// One bucket on S3 (or an S3-compatible server).
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    region: String,
}

impl S3Store {
    /// `region` decides the location constraint when the bucket has to be created.
    pub fn new(client: Client, bucket: String, region: String) -> Self {
        S3Store {
            client,
            bucket,
            region,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn what(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn bucket_what(&self) -> String {
        format!("bucket {}", self.bucket)
    }
}

/// S3 reports a missing key as `NoSuchKey` (GET) or a bare 404 `NotFound` (HEAD has no body).
fn is_missing_key(f: &Failure) -> bool {
    !f.is_missing_container() && (f.code_is(&["NoSuchKey", "NotFound"]) || f.status == Some(404))
}

fn read_error(what: &str, err: impl std::error::Error + 'static) -> BackendError {
    BackendError::Unavailable {
        service: "object store (S3)",
        detail: sanitize(&format!("reading {what}: {}", error_chain(&err))),
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<ETag> {
        let size = bytes.len();
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        let conditional = condition != PutCondition::None;
        req = match condition {
            PutCondition::None => req,
            PutCondition::IfAbsent => req.if_none_match("*"),
            PutCondition::IfMatch(etag) => req.if_match(etag),
        };
        match req.send().await {
            Ok(out) => {
                tracing::debug!(bucket = %self.bucket, key, size, "s3 put");
                out.e_tag().map(str::to_string).ok_or_else(|| {
                    BackendError::Other(format!("S3 returned no ETag for {}", self.what(key)))
                })
            }
            Err(err) => {
                let f = Failure::from_sdk(&err);
                // 412: the condition failed; 409: a concurrent conditional write is in
                // progress; 404 on If-Match: the version we meant to replace is gone.
                if conditional && (f.status_is(&[412, 409]) || is_missing_key(&f)) {
                    tracing::debug!(bucket = %self.bucket, key, status = ?f.status, "s3 conditional put lost");
                    return Err(BackendError::PreconditionFailed);
                }
                Err(map_sdk(Service::S3, &self.what(key), &err))
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Object>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                let content_type = out.content_type().map(str::to_string);
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| read_error(&self.what(key), e))?
                    .into_bytes();
                Ok(Some(Object {
                    bytes,
                    etag,
                    content_type,
                }))
            }
            Err(err) => {
                let f = Failure::from_sdk(&err);
                if is_missing_key(&f) {
                    tracing::debug!(bucket = %self.bucket, key, status = ?f.status, code = ?f.code, "s3 key missing");
                    return Ok(None);
                }
                Err(map_sdk(Service::S3, &self.what(key), &err))
            }
        }
    }

    async fn get_if_changed(&self, key: &str, etag: &str) -> Result<Fetched> {
        let res = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match(etag)
            .send()
            .await;
        match res {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                let content_type = out.content_type().map(str::to_string);
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| read_error(&self.what(key), e))?
                    .into_bytes();
                Ok(Fetched::Changed(Object {
                    bytes,
                    etag,
                    content_type,
                }))
            }
            Err(err) => {
                let f = Failure::from_sdk(&err);
                // The SDK has no modelled "not modified": it is an error carrying HTTP 304.
                if f.status == Some(304) {
                    tracing::debug!(bucket = %self.bucket, key, code = ?f.code, "s3 get: not modified");
                    return Ok(Fetched::Unchanged);
                }
                if is_missing_key(&f) {
                    tracing::debug!(bucket = %self.bucket, key, status = ?f.status, code = ?f.code, "s3 key missing");
                    return Ok(Fetched::Missing);
                }
                Err(map_sdk(Service::S3, &self.what(key), &err))
            }
        }
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                key: key.to_string(),
                etag: out.e_tag().unwrap_or_default().to_string(),
                size: out.content_length().unwrap_or(0).max(0) as u64,
            })),
            Err(err) => {
                let f = Failure::from_sdk(&err);
                if is_missing_key(&f) {
                    tracing::debug!(bucket = %self.bucket, key, status = ?f.status, code = ?f.code, "s3 head: key missing");
                    // A bare 404 cannot tell a missing bucket from a missing key; only a
                    // later call will say NoSuchBucket.
                    return Ok(None);
                }
                Err(map_sdk(Service::S3, &self.what(key), &err))
            }
        }
    }

    async fn list_page(&self, prefix: &str, continuation: Option<String>) -> Result<ListPage> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_continuation_token(continuation)
            .send()
            .await
            .map_err(|e| map_sdk(Service::S3, &self.what(prefix), &e))?;
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ObjectMeta {
                    key: o.key()?.to_string(),
                    etag: o.e_tag().unwrap_or_default().to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                })
            })
            .collect();
        let next = match out.is_truncated() {
            Some(true) => out.next_continuation_token().map(str::to_string),
            _ => None,
        };
        Ok(ListPage { objects, next })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map_sdk(Service::S3, &self.what(key), &e))?;
        tracing::debug!(bucket = %self.bucket, key, "s3 delete");
        Ok(())
    }

    async fn ensure_bucket(&self) -> Result<bool> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(false),
            Err(err) => {
                let f = Failure::from_sdk(&err);
                tracing::debug!(bucket = %self.bucket, status = ?f.status, code = ?f.code, "s3 head bucket failed");
                // HeadBucket has no body, so a missing bucket is just a 404.
                if !(f.status == Some(404) || f.code_is(&["NotFound", "NoSuchBucket"])) {
                    return Err(map_sdk(Service::S3, &self.bucket_what(), &err));
                }
            }
        }
        let mut req = self.client.create_bucket().bucket(&self.bucket);
        // us-east-1 rejects an explicit location constraint; every other region needs one.
        if self.region != DEFAULT_REGION {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match req.send().await {
            Ok(_) => {
                tracing::info!(bucket = %self.bucket, region = %self.region, "created S3 bucket");
                Ok(true)
            }
            Err(err) => {
                let f = Failure::from_sdk(&err);
                tracing::debug!(bucket = %self.bucket, status = ?f.status, code = ?f.code, "s3 create bucket failed");
                if f.code_is(&["BucketAlreadyOwnedByYou"]) {
                    return Ok(false);
                }
                if f.code_is(&["BucketAlreadyExists"]) {
                    // Some servers say this for our own bucket too (e.g. a creation race):
                    // only a bucket we can reach counts as ours.
                    if self
                        .client
                        .head_bucket()
                        .bucket(&self.bucket)
                        .send()
                        .await
                        .is_ok()
                    {
                        return Ok(false);
                    }
                    return Err(BackendError::Invalid(format!(
                        "the S3 bucket name {} is taken by another account; choose another bucket name",
                        self.bucket
                    )));
                }
                Err(classify(Service::S3, &self.bucket_what(), &f))
            }
        }
    }
}
