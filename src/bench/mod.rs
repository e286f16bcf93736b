//! `hotdog-tui bench`: a load generator for whichever backend the global flags select, like
//! `redis-benchmark` or `pgbench`. It owns the three benches (compute, labels, stats), the
//! scratch resources they run on, and how their figures are printed (text or `--json`).

mod compute;
mod labels;
mod latency;
mod scratch;
mod stats;
mod votes;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::anyhow;
use serde::Serialize;

use crate::backend::{BackendError, Missing};
use crate::config::{BackendChoice, Settings};
use crate::service::context::AppContext;
pub use scratch::PrefixedStore;
use scratch::Scratch;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Adds MS milliseconds each way (a round trip of twice that, and one more round trip
    /// per new connection) between the bench and the http:// endpoint, through a loopback
    /// proxy: what a team that far from SQS and S3 sees. Needs `--backend aws
    /// --endpoint-url http://…` (moto, LocalStack, MinIO).
    #[arg(long, value_name = "MS", global = true)]
    pub latency_ms: Option<u64>,
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// The settings the bench runs with: with `--latency-ms`, the endpoint is replaced by a
/// delaying proxy in front of it, which lives as long as the returned guard.
pub async fn with_latency(
    settings: &Settings,
    args: &BenchArgs,
) -> anyhow::Result<(Settings, Option<latency::LatencyProxy>)> {
    let Some(ms) = args.latency_ms else {
        return Ok((settings.clone(), None));
    };
    let endpoint = match (settings.backend, &settings.endpoint_url) {
        (BackendChoice::Aws, Some(e)) => e,
        (BackendChoice::Aws, None) => {
            return Err(anyhow!(
                "--latency-ms delays the connection to an --endpoint-url (moto, LocalStack, \
                 MinIO); against AWS itself the latency is already real: drop --latency-ms"
            ));
        }
        (BackendChoice::Local, _) => {
            return Err(anyhow!(
                "--latency-ms needs --backend aws --endpoint-url http://…: the local backend \
                 has no network to delay"
            ));
        }
    };
    let target = latency::target_of(endpoint)?;
    let proxy = latency::LatencyProxy::start(target, Duration::from_millis(ms)).await?;
    let delayed = Settings {
        endpoint_url: Some(proxy.endpoint.clone()),
        ..settings.clone()
    };
    Ok((delayed, Some(proxy)))
}

/// Every bench runs on scratch queues and a `bench-<id>/` key prefix of its own, and removes
/// them when it ends (also on error or Ctrl-C).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchCommand {
    /// Compute round trips: N clients with their own reply queues against the worker(s).
    Compute(compute::ComputeArgs),
    /// Label answers through the label queue into the label files, checked for loss and
    /// duplicates; with --votes-per-image, labellers working like people until every image
    /// has its votes.
    Labels(labels::LabelsArgs),
    /// Statistics refresh over K seeded images: a cold and a warm refresh.
    Stats(stats::StatsArgs),
}

/// What a bench found: its figures, and whether every check passed.
pub(crate) struct Outcome {
    pub json: serde_json::Value,
    pub text: String,
    pub passed: bool,
}

pub async fn run(
    ctx: &AppContext,
    args: BenchArgs,
    proxy: Option<&latency::LatencyProxy>,
) -> anyhow::Result<ExitCode> {
    let scratch = Scratch::open(ctx).await.map_err(|e| match e {
        BackendError::NotFound {
            what: Missing::Bucket(_),
        } => anyhow!(
            "{e}: run `hotdog-tui setup` to create it (the bench works under bench-<id>/ in it)"
        ),
        e => anyhow::Error::new(e),
    })?;
    let mut result = tokio::select! {
        r = dispatch(&scratch, &args.command) => r,
        // Dropping the bench future stops its worker and clients; cleanup still runs below.
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; the scratch queues and objects were removed")),
    };
    if let Ok(outcome) = &mut result {
        if let Some(p) = proxy {
            let one_way_ms = p.one_way.as_millis();
            let connections = p.connections();
            if let Some(obj) = outcome.json.as_object_mut() {
                obj.insert(
                    "latency".into(),
                    serde_json::json!({"one_way_ms": one_way_ms, "connections": connections}),
                );
            }
            outcome.text.push_str(&format!(
                "latency      {one_way_ms} ms each way added by a loopback proxy; {connections} connections opened through it (one extra round trip each)\n"
            ));
        }
        if json_wanted(&args.command) {
            println!("{}", outcome.json);
        } else {
            print!("{}", outcome.text);
        }
    }
    if std::io::stderr().is_terminal() {
        eprintln!("removing the scratch queues and objects…");
    }
    scratch.cleanup().await;
    let outcome = result?;
    Ok(if outcome.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn dispatch(scratch: &Scratch, command: &BenchCommand) -> anyhow::Result<Outcome> {
    match command {
        BenchCommand::Compute(a) => compute::run(scratch, a).await,
        BenchCommand::Labels(a) => match a.votes_per_image {
            Some(n) => votes::run(scratch, a, n).await,
            None => labels::run(scratch, a).await,
        },
        BenchCommand::Stats(a) => stats::run(scratch, a).await,
    }
}

fn json_wanted(command: &BenchCommand) -> bool {
    match command {
        BenchCommand::Compute(a) => a.json,
        BenchCommand::Labels(a) => a.json,
        BenchCommand::Stats(a) => a.json,
    }
}

/// Round-trip percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latency {
    /// Nearest-rank percentiles (no interpolation: every figure is a measured sample).
    pub fn of(samples: &mut [Duration]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let n = samples.len();
        let at = |p: f64| {
            let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
            ms(samples[rank - 1])
        };
        let total: Duration = samples.iter().sum();
        Latency {
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: ms(samples[n - 1]),
            mean_ms: ms(total) / n as f64,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "p50 {} ms  p90 {} ms  p99 {} ms  max {} ms",
            short(self.p50_ms),
            short(self.p90_ms),
            short(self.p99_ms),
            short(self.max_ms)
        )
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Three significant figures, enough for timings.
pub(crate) fn short(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

pub(crate) fn per_second(count: u64, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { count as f64 / s } else { 0.0 }
}

/// Our figure over the baseline's; `None` when the baseline did nothing measurable.
pub(crate) fn ratio(ours: f64, baseline: f64) -> Option<f64> {
    (baseline > 0.0).then(|| ours / baseline)
}

/// A progress bar on a terminal, nothing otherwise (so `--json | jq` stays clean).
pub(crate) fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>10} {bar:30} {pos}/{len} {per_sec:>12} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(&mut samples);
        assert_eq!(
            (l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Latency::of(&mut []).p50_ms, 0.0);
        let mut one = [Duration::from_millis(3)];
        assert_eq!(Latency::of(&mut one).p99_ms, 3.0);
    }
}
