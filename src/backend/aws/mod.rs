//! Amazon SQS + S3 through the AWS SDK: connecting (credential/region/endpoint chain,
//! timeouts, retries) and turning SDK errors into `BackendError`. The two ports live in
//! `s3` (object store) and `sqs` (message queue).

mod s3;
mod sqs;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

pub use s3::S3Store;
pub use sqs::SqsQueues;

use super::{BackendError, Missing};

/// Region used when neither the flag nor the SDK chain (env, profile) names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Whole call, retries included; must exceed one attempt.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(35);
/// One attempt; longer than the 20 s SQS long poll so polls are not cut short.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_ATTEMPTS: u32 = 3;

/// How to reach AWS (or an S3/SQS-compatible endpoint such as moto or LocalStack).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub bucket: String,
}

/// Builds both clients from the standard SDK chain (env, profile, SSO, IMDS...).
/// Returns the stores, the region in effect, and the custom endpoint in effect (if any).
/// Makes no network call: bad credentials show up on first use.
pub async fn connect(
    opts: &AwsOptions,
) -> Result<(S3Store, SqsQueues, String, Option<String>), BackendError> {
    if opts.bucket.trim().is_empty() {
        return Err(BackendError::Invalid("no S3 bucket given".into()));
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Some(profile) = non_empty(opts.profile.as_deref()) {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = non_empty(opts.region.as_deref()) {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(endpoint) = non_empty(opts.endpoint_url.as_deref()) {
        loader = loader.endpoint_url(endpoint);
    }
    let sdk = loader.load().await;

    let region = sdk
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    let region_value = aws_config::Region::new(region.clone());

    // The loader folds the flag, AWS_ENDPOINT_URL and the profile's endpoint_url into
    // `sdk.endpoint_url()`; each client's `From<&SdkConfig>` then prefers the per-service
    // env vars (AWS_ENDPOINT_URL_S3/_SQS) over it, even over the flag, so the flag is
    // re-applied per client below. The env vars are read here only to report them and to
    // pick path-style addressing.
    let flag_endpoint = non_empty(opts.endpoint_url.as_deref()).map(str::to_string);
    let shared_endpoint = flag_endpoint
        .clone()
        .or_else(|| non_empty(sdk.endpoint_url()).map(str::to_string));
    let env_endpoints_ignored = env_non_empty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let service_env = |name: &str| match (&flag_endpoint, env_endpoints_ignored) {
        (None, false) => env_non_empty(name),
        _ => None,
    };
    let s3_env = service_env("AWS_ENDPOINT_URL_S3");
    let sqs_env = service_env("AWS_ENDPOINT_URL_SQS");
    let s3_custom = s3_env.is_some() || shared_endpoint.is_some();
    let endpoint = shared_endpoint.or(s3_env).or(sqs_env);

    let mut s3_conf = aws_sdk_s3::config::Builder::from(&sdk).region(region_value.clone());
    let mut sqs_conf = aws_sdk_sqs::config::Builder::from(&sdk).region(region_value);
    if let Some(flag) = &flag_endpoint {
        s3_conf = s3_conf.endpoint_url(flag);
        sqs_conf = sqs_conf.endpoint_url(flag);
    }
    if s3_custom {
        // S3-compatible servers rarely resolve virtual-host bucket names.
        s3_conf = s3_conf.force_path_style(true);
    }

    tracing::debug!(
        region = %region,
        endpoint = endpoint.as_deref().unwrap_or("(aws default)"),
        profile = opts.profile.as_deref().unwrap_or("(default)"),
        bucket = %opts.bucket,
        "aws backend configured"
    );
    let store = S3Store::new(
        aws_sdk_s3::Client::from_conf(s3_conf.build()),
        opts.bucket.clone(),
        region.clone(),
    );
    let queues = SqsQueues::new(aws_sdk_sqs::Client::from_conf(sqs_conf.build()));
    Ok((store, queues, region, endpoint))
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn env_non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Which service a failure came from, for `Unavailable { service }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    S3,
    Sqs,
}

impl Service {
    fn label(self) -> &'static str {
        match self {
            Service::S3 => "object store (S3)",
            Service::Sqs => "queue (SQS)",
        }
    }
}

/// The parts of an SDK failure that decide how it maps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Failure {
    /// HTTP status of the response, when one arrived.
    pub status: Option<u16>,
    /// Service error code (`NoSuchKey`, `AWS.SimpleQueueService.NonExistentQueue`...).
    pub code: Option<String>,
    pub message: Option<String>,
    /// No usable response: timeout, connection or dispatch failure.
    pub transport: bool,
    /// Credentials could not be resolved (surfaces as a dispatch failure in the SDK).
    pub no_credentials: bool,
    /// A bucket's real region (S3 301 redirects carry it in a header).
    pub bucket_region: Option<String>,
    /// Sanitized description for messages and logs.
    pub detail: String,
}

impl Failure {
    pub fn from_sdk<E>(err: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let raw = err.raw_response();
        let status = raw.map(|r| r.status().as_u16());
        let bucket_region = raw
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string);
        let code = err.code().map(str::to_string);
        let message = err.message().map(str::to_string);
        let full = sanitize(&error_chain(err));
        let (transport, no_credentials) = match err {
            SdkError::TimeoutError(_) => (true, false),
            SdkError::DispatchFailure(d) => {
                // Identity resolution runs just before sending, so a missing credential
                // chain is reported as an "other" dispatch failure, not a network one.
                let creds = d
                    .as_connector_error()
                    .is_some_and(|c| c.is_other() || c.is_user())
                    && full.to_ascii_lowercase().contains("credential");
                (!creds, creds)
            }
            _ => (false, false),
        };
        let detail = match (&code, &message) {
            (Some(c), Some(m)) => sanitize(&format!("{c}: {m}")),
            (Some(c), None) => match status {
                Some(s) => format!("{c} (HTTP {s})"),
                None => c.clone(),
            },
            (None, Some(m)) => sanitize(m),
            (None, None) => match status {
                Some(s) if !transport => format!("HTTP {s}: {full}"),
                _ => full,
            },
        };
        Failure {
            status,
            code,
            message,
            transport,
            no_credentials,
            bucket_region,
            detail,
        }
    }

    pub fn code_is(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    pub fn status_is(&self, statuses: &[u16]) -> bool {
        self.status.is_some_and(|s| statuses.contains(&s))
    }

    /// The bucket/queue itself is missing (not just a key).
    pub fn is_missing_container(&self) -> bool {
        self.code_is(&[
            "NoSuchBucket",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "NonExistentQueue",
        ])
    }
}

/// Error codes meaning "who you are or what you may do" rather than "what you asked".
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidSecurity",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "TokenRefreshRequired",
    "UnrecognizedClientException",
    "MissingAuthenticationToken",
    "AccountProblem",
    "KMS.AccessDeniedException",
];

/// Error codes for requests the service refuses as malformed; retrying will not help.
const INVALID_CODES: &[&str] = &[
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidMessageContents",
    "MissingParameter",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidRequest",
    "ValidationError",
    "ValidationException",
    "InvalidBatchEntryId",
    "BatchEntryIdsNotDistinct",
    "EmptyBatchRequest",
    "TooManyEntriesInBatchRequest",
    "BatchRequestTooLong",
    "ReceiptHandleIsInvalid",
    "InvalidIdFormat",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.EmptyBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.BatchRequestTooLong",
    "AWS.SimpleQueueService.InvalidBatchEntryId",
    "AWS.SimpleQueueService.UnsupportedOperation",
    "UnsupportedOperation",
    "EntityTooLarge",
    "KeyTooLongError",
    "MalformedXML",
];

/// The generic mapping; callers handle operation-specific statuses (412, 304, 404) first.
/// `what` names the resource ("s3://bucket/key", "queue jobs") in messages.
pub(crate) fn classify(service: Service, what: &str, f: &Failure) -> BackendError {
    if f.no_credentials {
        return BackendError::AccessDenied {
            what: what.to_string(),
            detail: format!("no usable AWS credentials ({})", f.detail),
        };
    }
    if f.transport {
        return BackendError::Unavailable {
            service: service.label(),
            detail: f.detail.clone(),
        };
    }
    if f.is_missing_container() {
        return BackendError::NotFound {
            what: missing_what(service, what, f),
        };
    }
    if f.code_is(ACCESS_CODES) || f.status_is(&[401, 403]) {
        return BackendError::AccessDenied {
            what: what.to_string(),
            detail: f.detail.clone(),
        };
    }
    if f.status == Some(301)
        && let Some(r) = &f.bucket_region
    {
        return BackendError::Invalid(format!(
            "{what} is in region {r}, not the configured one; set the region to {r}"
        ));
    }
    if f.code_is(INVALID_CODES) {
        return BackendError::Invalid(format!("{what}: {}", f.detail));
    }
    if f.status.is_some_and(|s| s >= 500)
        || f.code_is(&[
            "SlowDown",
            "Throttling",
            "ThrottlingException",
            "RequestThrottled",
            "ServiceUnavailable",
            // SQS: too many in-flight messages; clears as consumers delete.
            "OverLimit",
        ])
    {
        return BackendError::Unavailable {
            service: service.label(),
            detail: f.detail.clone(),
        };
    }
    BackendError::Other(format!(
        "{} call on {what} failed: {}",
        service.label(),
        f.detail
    ))
}

/// "bucket X" for a missing bucket even when the call was about one of its keys.
fn missing_what(service: Service, what: &str, f: &Failure) -> Missing {
    match service {
        Service::S3 if f.code_is(&["NoSuchBucket"]) => match what.strip_prefix("s3://") {
            Some(rest) => Missing::Bucket(rest.split('/').next().unwrap_or(rest).to_string()),
            None => Missing::Bucket(what.to_string()),
        },
        Service::S3 => Missing::Object(what.to_string()),
        Service::Sqs => Missing::Queue(what.strip_prefix("queue ").unwrap_or(what).to_string()),
    }
}

/// Shorthand: extract and classify in one go.
pub(crate) fn map_sdk<E>(
    service: Service,
    what: &str,
    err: &SdkError<E, HttpResponse>,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let f = Failure::from_sdk(err);
    let mapped = classify(service, what, &f);
    tracing::debug!(service = service.label(), what, status = ?f.status, code = ?f.code, error = %mapped, "aws call failed");
    mapped
}

/// "outer: inner: root" from an error's source chain; shorter than `DisplayErrorContext`,
/// which appends a Debug dump.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // Wrappers often repeat their source's message; keep each once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Keeps secrets and signed URLs out of messages: SDK errors can echo request URLs, and
/// presigned ones carry credentials in the query string.
pub(crate) fn sanitize(text: &str) -> String {
    const MAX: usize = 400;
    const SECRET_MARKERS: &[&str] = &[
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "awsaccesskeyid",
        "signature=",
        "authorization:",
        "aws_secret_access_key",
        "aws_session_token",
    ];
    let mut out = String::with_capacity(text.len().min(MAX));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        if SECRET_MARKERS.iter().any(|m| lower.contains(m)) {
            out.push_str("[redacted]");
        } else if let Some(q) = word.find('?').filter(|_| lower.contains("://")) {
            // Drop any query string from URLs: it is where signatures live.
            out.push_str(&word[..q]);
            out.push_str("?[redacted]");
        } else {
            out.push_str(word);
        }
    }
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Milliseconds from an SQS/epoch-seconds attribute ("1700000000" or "1700000000.25").
pub(crate) fn seconds_to_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return secs.checked_mul(1000);
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(|f| (f * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: Option<u16>, code: Option<&str>) -> Failure {
        Failure {
            status,
            code: code.map(str::to_string),
            detail: code.unwrap_or("x").to_string(),
            ..Failure::default()
        }
    }

    #[test]
    fn classifies_missing_containers() {
        let e = classify(
            Service::S3,
            "s3://b/k/x.json",
            &failure(Some(404), Some("NoSuchBucket")),
        );
        assert!(
            matches!(e, BackendError::NotFound { ref what } if *what == Missing::Bucket("b".into())),
            "{e:?}"
        );
        for code in [
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ] {
            let e = classify(Service::Sqs, "queue q", &failure(Some(400), Some(code)));
            assert!(
                matches!(e, BackendError::NotFound { ref what } if *what == Missing::Queue("q".into())),
                "{e:?}"
            );
        }
    }

    #[test]
    fn classifies_access_problems() {
        for code in [
            "AccessDenied",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
        ] {
            let e = classify(Service::Sqs, "queue q", &failure(Some(400), Some(code)));
            assert!(
                matches!(e, BackendError::AccessDenied { .. }),
                "{code}: {e:?}"
            );
        }
        let e = classify(Service::S3, "bucket b", &failure(Some(403), None));
        assert!(matches!(e, BackendError::AccessDenied { .. }));
        let f = Failure {
            no_credentials: true,
            detail: "no providers".into(),
            ..Failure::default()
        };
        assert!(matches!(
            classify(Service::S3, "bucket b", &f),
            BackendError::AccessDenied { .. }
        ));
    }

    #[test]
    fn classifies_transport_and_server_errors_as_unavailable() {
        let f = Failure {
            transport: true,
            detail: "connection refused".into(),
            ..Failure::default()
        };
        let e = classify(Service::Sqs, "queue q", &f);
        assert!(
            matches!(
                e,
                BackendError::Unavailable {
                    service: "queue (SQS)",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = classify(
            Service::S3,
            "bucket b",
            &failure(Some(503), Some("SlowDown")),
        );
        assert!(
            matches!(
                e,
                BackendError::Unavailable {
                    service: "object store (S3)",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn classifies_the_rest() {
        let e = classify(
            Service::Sqs,
            "queue q",
            &failure(Some(400), Some("InvalidParameterValue")),
        );
        assert!(matches!(e, BackendError::Invalid(_)), "{e:?}");
        let e = classify(Service::S3, "bucket b", &failure(Some(400), Some("Weird")));
        assert!(matches!(e, BackendError::Other(_)), "{e:?}");
        let f = Failure {
            status: Some(301),
            bucket_region: Some("eu-west-1".into()),
            ..Failure::default()
        };
        let e = classify(Service::S3, "bucket b", &f);
        assert!(
            matches!(e, BackendError::Invalid(ref m) if m.contains("eu-west-1")),
            "{e:?}"
        );
    }

    #[test]
    fn sanitize_redacts_signed_urls_and_secrets() {
        let s = sanitize(
            "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA/x&X-Amz-Signature=abc failed; see http://h/p?a=b",
        );
        assert!(!s.contains("AKIA"), "{s}");
        assert!(!s.contains("abc"), "{s}");
        assert!(s.contains("http://h/p?[redacted]"), "{s}");
        assert!(sanitize(&"x".repeat(1000)).chars().count() <= 401);
    }

    #[test]
    fn parses_epoch_seconds() {
        assert_eq!(seconds_to_ms("1700000000"), Some(1_700_000_000_000));
        assert_eq!(seconds_to_ms("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(seconds_to_ms("nope"), None);
    }
}
