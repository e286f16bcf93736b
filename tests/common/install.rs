//! The real binary as a user runs it: one isolated installation per test (its own data
//! dir, or its own bucket and queues on moto), commands, and worker processes.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_hotdog-tui");

/// One isolated installation: its own data dir (local) or bucket and queues (aws).
pub struct Install {
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
    /// The bucket on moto, for an aws installation.
    pub bucket: Option<String>,
}

impl Install {
    pub fn local() -> Install {
        let dir = tempfile::tempdir().unwrap();
        let args = vec![
            "--data-dir".into(),
            dir.path().join("data").display().to_string(),
            "--state-dir".into(),
            dir.path().join("state").display().to_string(),
            "--log-file".into(),
            dir.path().join("log.txt").display().to_string(),
        ];
        Install {
            dir,
            args,
            bucket: None,
        }
    }

    pub fn aws() -> Install {
        Install::aws_via(&super::moto::moto_endpoint())
    }

    /// An aws installation reached through `endpoint` (a proxy in front of moto).
    pub fn aws_via(endpoint: &str) -> Install {
        let dir = tempfile::tempdir().unwrap();
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let args = vec![
            "--backend".into(),
            "aws".into(),
            "--endpoint-url".into(),
            endpoint.to_string(),
            "--region".into(),
            "us-east-1".into(),
            "--bucket".into(),
            format!("e2e-{tag}"),
            "--request-queue".into(),
            format!("e2e-{tag}-requests"),
            "--response-queue".into(),
            format!("e2e-{tag}-responses"),
            "--label-queue".into(),
            format!("e2e-{tag}-labels"),
            "--state-dir".into(),
            dir.path().join("state").display().to_string(),
            "--log-file".into(),
            dir.path().join("log.txt").display().to_string(),
        ];
        let bucket = Some(format!("e2e-{tag}"));
        let i = Install { dir, args, bucket };
        let out = i.run(&["setup"]);
        assert!(
            out.status.success(),
            "setup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        i
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(&self.args)
            .args(args)
            .env("HOTDOG_USER", "e2e")
            .env_remove("HOTDOG_CONFIG");
        c.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
        c.env("HOME", self.dir.path()); // no user config file is read
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    pub fn worker(&self) -> Child {
        self.command(&["worker"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    pub fn stats(&self) -> serde_json::Value {
        let out = self.run(&["stats", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Polls `stats --json` until `done` holds (or `within` passes); returns the last figures.
    pub fn stats_until(
        &self,
        within: std::time::Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let s = self.stats();
            if done(&s) || std::time::Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub struct Stop(pub Child);
impl Drop for Stop {
    fn drop(&mut self) {
        // SIGTERM so the worker finishes what it holds; then reap it.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).trim().to_string(),
        String::from_utf8_lossy(&o.stderr).trim().to_string(),
    )
}

impl Install {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The same installation opened in-process, as the binary opens it.
    pub async fn context(&self) -> hotdog_tui::service::context::AppContext {
        use clap::Parser;
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            global: hotdog_tui::config::GlobalArgs,
        }
        let mut argv = vec!["hotdog-tui".to_string()];
        argv.extend(self.args.iter().cloned());
        let flags = Flags::try_parse_from(argv).expect("flags");
        let settings = hotdog_tui::config::Settings::merge(&flags.global, Default::default())
            .expect("settings");
        if self.bucket.is_some() {
            let _ = super::moto::moto_options("unused"); // dummy credentials in this process
        }
        let (ctx, mut report) = hotdog_tui::service::context::connect(&settings)
            .await
            .expect("connect");
        // As the CLI does: a new local data dir gets the sample images.
        hotdog_tui::service::samples::seed_new_store(&ctx, &mut report)
            .await
            .expect("seed");
        ctx
    }
}

/// One image's figures in `stats --json` (`null` when it is not listed).
pub fn image_of(stats: &serde_json::Value, image: &str) -> serde_json::Value {
    stats["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == image)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}
