//! Settings: global flags, `HOTDOG_…` environment variables and an optional TOML file in the
//! platform config dir, resolved with the precedence flag > env > file > default.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// Files + SQLite in the data dir: zero setup.
    #[default]
    Local,
    /// Amazon SQS + S3 (or any compatible endpoint).
    Aws,
}

/// How images are drawn: `auto` asks the terminal; the others force a protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageProtocolChoice {
    /// Ask the terminal (and tmux or screen around it) what it can display.
    #[default]
    Auto,
    /// Unicode half-blocks: text cells, work everywhere.
    Halfblocks,
    Sixel,
    /// The kitty graphics protocol (unicode placeholders on kitty ≥ 0.28, direct placement before).
    Kitty,
    Iterm2,
}

/// How many colours the terminal shows: forces what detection would find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
pub enum ColorsChoice {
    /// 24-bit colour (`38;2;r;g;b`).
    #[value(name = "24bit")]
    #[serde(rename = "24bit")]
    TrueColor,
    /// The xterm 256-colour palette.
    #[value(name = "256")]
    #[serde(rename = "256")]
    Palette256,
    /// The 16 basic colours.
    #[value(name = "16")]
    #[serde(rename = "16")]
    Basic16,
}

/// Global flags shared by every subcommand. Each is optional so the config file can fill gaps.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// Backend: local (files + SQLite) or aws (SQS + S3).
    #[arg(long, env = "HOTDOG_BACKEND", value_enum, global = true)]
    pub backend: Option<BackendChoice>,
    /// Data directory of the local backend [default: the platform data dir].
    #[arg(long, env = "HOTDOG_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Endpoint of an SQS/S3-compatible service (moto, LocalStack, MinIO); also AWS_ENDPOINT_URL.
    #[arg(long, env = "HOTDOG_ENDPOINT_URL", global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region [default: from the AWS config chain, else us-east-1].
    #[arg(long, env = "HOTDOG_REGION", global = true)]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config (SSO profiles work too).
    #[arg(long, env = "HOTDOG_PROFILE", global = true)]
    pub profile: Option<String>,
    /// Bucket holding images, labels and logs [default: hotdog-tui].
    #[arg(long, env = "HOTDOG_BUCKET", global = true)]
    pub bucket: Option<String>,
    /// Request queue of the compute service [default: hotdog-requests].
    #[arg(long, env = "HOTDOG_REQUEST_QUEUE", global = true, value_name = "NAME")]
    pub request_queue: Option<String>,
    /// Shared response queue for plain clients [default: hotdog-responses].
    #[arg(
        long,
        env = "HOTDOG_RESPONSE_QUEUE",
        global = true,
        value_name = "NAME"
    )]
    pub response_queue: Option<String>,
    /// Queue of submitted label answers [default: hotdog-labels].
    #[arg(long, env = "HOTDOG_LABEL_QUEUE", global = true, value_name = "NAME")]
    pub label_queue: Option<String>,
    /// Labeller name written with every answer [default: your login name].
    #[arg(long, env = "HOTDOG_USER", global = true)]
    pub user: Option<String>,
    /// Largest image accepted at upload, in bytes [default: 10 MiB].
    #[arg(
        long,
        env = "HOTDOG_MAX_IMAGE_BYTES",
        global = true,
        value_name = "BYTES"
    )]
    pub max_image_bytes: Option<u64>,
    /// Current votes an image needs; then it is done and no longer shown [default: 3].
    #[arg(
        long,
        env = "HOTDOG_VOTES_PER_IMAGE",
        global = true,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..=1000)
    )]
    pub votes_per_image: Option<u64>,
    /// Share of each labeller's images that are gold images (known answers) she has not
    /// answered, mixed into her rounds: `0.1` or `1/10` [default: 1/10]; 0 turns it off.
    #[arg(
        long,
        env = "HOTDOG_GOLD_RATE",
        global = true,
        value_name = "RATE",
        value_parser = parse_share
    )]
    pub gold_rate: Option<f64>,
    /// The review view lists images whose consensus confidence is under this (and ties)
    /// [default: 0.8].
    #[arg(
        long,
        env = "HOTDOG_REVIEW_BELOW",
        global = true,
        value_name = "CONFIDENCE",
        value_parser = parse_share
    )]
    pub review_below: Option<f64>,
    /// Who may adjudicate in the review view, comma-separated [default: everyone].
    #[arg(
        long,
        env = "HOTDOG_REVIEWERS",
        global = true,
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub reviewers: Option<Vec<String>>,
    /// Where answers wait until the label queue has them (the outbox) [default: the platform state dir].
    #[arg(long, env = "HOTDOG_STATE_DIR", global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Log file [default: hotdog-tui.log in the state dir]. Filter with RUST_LOG.
    #[arg(long, env = "HOTDOG_LOG_FILE", global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// How images are drawn [default: auto, which asks the terminal; else half-blocks].
    #[arg(long, value_enum, env = "HOTDOG_IMAGE_PROTOCOL", global = true)]
    pub image_protocol: Option<ImageProtocolChoice>,
    /// Colours the terminal shows [default: detected: COLORTERM, terminfo, the terminal's answers].
    #[arg(long, value_enum, env = "HOTDOG_COLORS", global = true)]
    pub colors: Option<ColorsChoice>,
    /// Config file [default: config.toml in the platform config dir, if it exists].
    #[arg(long, env = "HOTDOG_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The optional config file; keys are the long flag names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    pub backend: Option<BackendChoice>,
    pub data_dir: Option<PathBuf>,
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub bucket: Option<String>,
    pub request_queue: Option<String>,
    pub response_queue: Option<String>,
    pub label_queue: Option<String>,
    pub user: Option<String>,
    pub max_image_bytes: Option<u64>,
    pub votes_per_image: Option<u64>,
    /// A number (`0.1`) or a string (`"1/10"`).
    pub gold_rate: Option<ShareInFile>,
    pub review_below: Option<ShareInFile>,
    pub reviewers: Option<Vec<String>>,
    pub state_dir: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub image_protocol: Option<ImageProtocolChoice>,
    pub colors: Option<ColorsChoice>,
}

/// A share in the config file: `0.1` or `"1/10"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ShareInFile {
    Number(f64),
    Text(String),
}

/// The gold rate unless configured otherwise: one image in ten.
pub const DEFAULT_GOLD_RATE: f64 = 0.1;
/// Images whose consensus confidence is under this are listed for review.
pub const DEFAULT_REVIEW_BELOW: f64 = 0.8;

/// `0.1`, `10%` or `1/10` → 0.1; anything outside 0..=1 is refused with the forms it takes.
pub fn parse_share(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let value = if let Some((a, b)) = t.split_once('/') {
        match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
            (Ok(a), Ok(b)) if b > 0.0 => Some(a / b),
            _ => None,
        }
    } else if let Some(p) = t.strip_suffix('%') {
        p.trim().parse::<f64>().ok().map(|p| p / 100.0)
    } else {
        t.parse::<f64>().ok()
    };
    match value {
        Some(v) if v.is_finite() && (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "\"{t}\" is not a share between 0 and 1 (write it as 0.1, 10% or 1/10)"
        )),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("no home directory found: pass --data-dir (or set HOTDOG_DATA_DIR)")]
    NoHome,
    #[error("votes-per-image must be between 1 and 1000, not {0}")]
    VotesPerImage(u64),
    #[error("{key} in the config file: {message}")]
    Share { key: &'static str, message: String },
}

/// Queue and bucket names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceNames {
    pub bucket: String,
    pub request_queue: String,
    pub response_queue: String,
    pub label_queue: String,
}

impl ResourceNames {
    pub fn dlq(name: &str) -> String {
        format!("{name}-dlq")
    }
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub backend: BackendChoice,
    pub data_dir: PathBuf,
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub names: ResourceNames,
    pub user: String,
    pub max_image_bytes: u64,
    /// Current votes an image needs before it leaves the labelling pool.
    pub votes_per_image: u64,
    /// Share of a labeller's images that are gold images she has not answered.
    pub gold_rate: f64,
    /// The review view lists images whose confidence is under this (and ties).
    pub review_below: f64,
    /// Who may adjudicate; empty: everyone.
    pub reviewers: Vec<String>,
    /// Holds the outbox of answers not yet accepted by the label queue.
    pub state_dir: PathBuf,
    pub log_file: PathBuf,
    pub image_protocol: ImageProtocolChoice,
    /// `None`: detect the colour depth.
    pub colors: Option<ColorsChoice>,
}

pub const DEFAULT_MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "hotdog-tui")
}

pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

pub fn load_file(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

fn login_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(name_from_passwd)
        .unwrap_or_else(|| "anonymous".into())
}

/// The login name of this process's user from /etc/passwd, when no env var names it
/// (detached tmux sessions, cron, containers).
fn name_from_passwd() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_string())
    })
}

impl Settings {
    /// Resolves flags and env (already merged by clap) over the config file over defaults.
    pub fn resolve(args: &GlobalArgs) -> Result<Settings, ConfigError> {
        let file = match &args.config {
            Some(p) => load_file(p)?,
            None => match default_config_path() {
                Some(p) if p.exists() => load_file(&p)?,
                _ => ConfigFile::default(),
            },
        };
        Self::merge(args, file)
    }

    pub fn merge(args: &GlobalArgs, file: ConfigFile) -> Result<Settings, ConfigError> {
        let dirs = project_dirs();
        let data_dir = match args.data_dir.clone().or(file.data_dir) {
            Some(d) => d,
            None => dirs
                .as_ref()
                .ok_or(ConfigError::NoHome)?
                .data_dir()
                .to_path_buf(),
        };
        let state_dir = match args.state_dir.clone().or(file.state_dir) {
            Some(d) => d,
            None => dirs
                .as_ref()
                .and_then(|d| d.state_dir().map(Path::to_path_buf))
                .unwrap_or_else(|| data_dir.join("state")),
        };
        let log_file = args
            .log_file
            .clone()
            .or(file.log_file)
            .unwrap_or_else(|| state_dir.join("hotdog-tui.log"));
        let votes_per_image = args
            .votes_per_image
            .or(file.votes_per_image)
            .unwrap_or(crate::domain::stats::DEFAULT_VOTES_PER_IMAGE);
        if !(1..=1000).contains(&votes_per_image) {
            return Err(ConfigError::VotesPerImage(votes_per_image));
        }
        let share = |flag: Option<f64>,
                     file: Option<ShareInFile>,
                     key: &'static str,
                     default: f64|
         -> Result<f64, ConfigError> {
            if let Some(v) = flag {
                return Ok(v);
            }
            let text = match file {
                None => return Ok(default),
                Some(ShareInFile::Number(n)) => n.to_string(),
                Some(ShareInFile::Text(t)) => t,
            };
            parse_share(&text).map_err(|message| ConfigError::Share { key, message })
        };
        let gold_rate = share(
            args.gold_rate,
            file.gold_rate,
            "gold-rate",
            DEFAULT_GOLD_RATE,
        )?;
        let review_below = share(
            args.review_below,
            file.review_below,
            "review-below",
            DEFAULT_REVIEW_BELOW,
        )?;
        let reviewers: Vec<String> = args
            .reviewers
            .clone()
            .or(file.reviewers)
            .unwrap_or_default()
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .map(crate::domain::names::labeller_name)
            .collect();
        let pick = |a: &Option<String>, f: Option<String>, d: &str| {
            a.clone().or(f).unwrap_or_else(|| d.to_string())
        };
        Ok(Settings {
            backend: args.backend.or(file.backend).unwrap_or_default(),
            data_dir,
            endpoint_url: args.endpoint_url.clone().or(file.endpoint_url),
            region: args.region.clone().or(file.region),
            profile: args.profile.clone().or(file.profile),
            names: ResourceNames {
                bucket: pick(&args.bucket, file.bucket, "hotdog-tui"),
                request_queue: pick(&args.request_queue, file.request_queue, "hotdog-requests"),
                response_queue: pick(
                    &args.response_queue,
                    file.response_queue,
                    "hotdog-responses",
                ),
                label_queue: pick(&args.label_queue, file.label_queue, "hotdog-labels"),
            },
            user: crate::domain::names::labeller_name(
                &args.user.clone().or(file.user).unwrap_or_else(login_name),
            ),
            max_image_bytes: args
                .max_image_bytes
                .or(file.max_image_bytes)
                .unwrap_or(DEFAULT_MAX_IMAGE_BYTES),
            votes_per_image,
            gold_rate,
            review_below,
            reviewers,
            state_dir,
            log_file,
            image_protocol: args
                .image_protocol
                .or(file.image_protocol)
                .unwrap_or_default(),
            colors: args.colors.or(file.colors),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_file_beats_default() {
        let args = GlobalArgs {
            bucket: Some("from-flag".into()),
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        };
        let file: ConfigFile = toml::from_str(
            "bucket = \"from-file\"\nlabel-queue = \"file-labels\"\nbackend = \"aws\"\n",
        )
        .unwrap();
        let s = Settings::merge(&args, file).unwrap();
        assert_eq!(s.names.bucket, "from-flag");
        assert_eq!(s.names.label_queue, "file-labels");
        assert_eq!(s.names.request_queue, "hotdog-requests");
        assert_eq!(s.backend, BackendChoice::Aws);
        assert_eq!(s.votes_per_image, 3);
        assert_eq!(s.log_file, s.state_dir.join("hotdog-tui.log"));
    }

    #[test]
    fn votes_per_image_from_flag_env_or_file() {
        let file: ConfigFile =
            toml::from_str("votes-per-image = 5\nstate-dir = \"/tmp/st\"\n").unwrap();
        let args = GlobalArgs {
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        };
        let s = Settings::merge(&args, file.clone()).unwrap();
        assert_eq!(
            (s.votes_per_image, s.state_dir.clone()),
            (5, "/tmp/st".into())
        );
        let flag = GlobalArgs {
            votes_per_image: Some(2),
            ..args.clone()
        };
        assert_eq!(Settings::merge(&flag, file).unwrap().votes_per_image, 2);
        let zero: ConfigFile = toml::from_str("votes-per-image = 0\n").unwrap();
        let e = Settings::merge(&args, zero).unwrap_err().to_string();
        assert!(e.contains("between 1 and 1000"), "{e}");
    }

    #[test]
    fn gold_rate_review_below_and_reviewers() {
        let args = GlobalArgs {
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        };
        let d = Settings::merge(&args, ConfigFile::default()).unwrap();
        assert_eq!((d.gold_rate, d.review_below), (0.1, 0.8));
        assert!(d.reviewers.is_empty());
        let file: ConfigFile = toml::from_str(
            "gold-rate = \"1/20\"\nreview-below = 0.9\nreviewers = [\"ann\", \" bob \"]\n",
        )
        .unwrap();
        let s = Settings::merge(&args, file.clone()).unwrap();
        assert_eq!((s.gold_rate, s.review_below), (0.05, 0.9));
        assert_eq!(s.reviewers, vec!["ann".to_string(), "bob".to_string()]);
        let flag = GlobalArgs {
            gold_rate: Some(0.0),
            reviewers: Some(vec!["cat".into()]),
            ..args.clone()
        };
        let s = Settings::merge(&flag, file).unwrap();
        assert_eq!(s.gold_rate, 0.0);
        assert_eq!(s.reviewers, vec!["cat".to_string()]);
        let bad: ConfigFile = toml::from_str("gold-rate = 3\n").unwrap();
        let e = Settings::merge(&args, bad).unwrap_err().to_string();
        assert!(e.contains("gold-rate") && e.contains("1/10"), "{e}");
        assert_eq!(parse_share("10%"), Ok(0.1));
        assert_eq!(parse_share("1/4"), Ok(0.25));
        assert!(parse_share("1/0").is_err() && parse_share("-0.1").is_err());
        assert!(parse_share("NaN").is_err());
    }

    #[test]
    fn bad_config_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "buckit = 1\n").unwrap();
        let e = load_file(&p).unwrap_err().to_string();
        assert!(e.contains("not valid") && e.contains("buckit"), "{e}");
        let ok = dir.path().join("ok.toml");
        std::fs::write(&ok, "backend = \"local\"\nmax-image-bytes = 5\n").unwrap();
        assert_eq!(load_file(&ok).unwrap().max_image_bytes, Some(5));
    }

    #[test]
    fn image_protocol_and_colors_come_from_the_file_unless_a_flag_says() {
        let file: ConfigFile =
            toml::from_str("image-protocol = \"halfblocks\"\ncolors = \"256\"\n").unwrap();
        let args = GlobalArgs {
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        };
        let s = Settings::merge(&args, file.clone()).unwrap();
        assert_eq!(s.image_protocol, ImageProtocolChoice::Halfblocks);
        assert_eq!(s.colors, Some(ColorsChoice::Palette256));
        let args = GlobalArgs {
            image_protocol: Some(ImageProtocolChoice::Sixel),
            colors: Some(ColorsChoice::Basic16),
            ..args
        };
        let s = Settings::merge(&args, file).unwrap();
        assert_eq!(s.image_protocol, ImageProtocolChoice::Sixel);
        assert_eq!(s.colors, Some(ColorsChoice::Basic16));
        let defaults = Settings::merge(
            &GlobalArgs {
                data_dir: Some("/tmp/x".into()),
                ..Default::default()
            },
            ConfigFile::default(),
        )
        .unwrap();
        assert_eq!(defaults.image_protocol, ImageProtocolChoice::Auto);
        assert_eq!(defaults.colors, None);
        let e = toml::from_str::<ConfigFile>("colors = \"true\"\n").unwrap_err();
        assert!(e.to_string().contains("colors"), "{e}");
    }
}
