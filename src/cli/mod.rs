//! The command line: global flags, subcommands, and what each one prints. Errors become one
//! line on stderr (what failed, what to do) and a non-zero exit; usage errors exit with 2.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use crate::backend::{BackendError, Missing};
use crate::config::{GlobalArgs, Settings};
use crate::domain::export::ExportFormat;
use crate::domain::names::display_safe;
use crate::domain::numbers::{SummaryJson, parse_numbers};
use crate::service::compute_client::ComputeClient;
use crate::service::context::{self, AppContext, SetupStep};

mod argv;
mod dataset;
mod docs;
mod doctor;
mod gold;

#[derive(Debug, Parser)]
#[command(name = "hotdog-tui", version, about = "Label hot-dog training images in the terminal, and run the queue-backed compute service.", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub tui: TuiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the process's arguments. Data that starts with a minus sign (`compute
    /// -1,2,7,9`) reaches its command, which answers with its own sentence.
    pub fn parse_args() -> Self {
        let args = std::env::args_os().collect();
        Self::parse_from(argv::user_data_behind_double_dash(Self::command(), args))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the worker headless: answers compute requests and writes label answers.
    Worker {
        /// Concurrent receive loops per queue.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        pollers: u16,
    },
    /// Send numbers to the compute service and print the result, e.g. `compute 1,12,55,4`.
    Compute {
        /// 1 to 10 whole numbers ≥ 0, separated by commas and/or spaces.
        #[arg(required = true, num_args = 1.., allow_negative_numbers = true, value_name = "NUMBERS")]
        numbers: Vec<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Seconds to wait for a worker's answer.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
    },
    /// Give answers, e.g. `label 1.jpg=1 7.jpg=0 9.jpg=skip` (1 = hot dog, 0 = not a hot dog,
    /// skip = can't tell). Labelling an image again replaces your earlier answer.
    Label {
        #[arg(required = true, num_args = 1.., value_name = "IMAGE=VOTE")]
        answers: Vec<String>,
        /// Print the answers with their ids as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the statistics per image and in total.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Upload image files or folders of images.
    Upload {
        #[arg(required = true, num_args = 1.., value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Upload the 20 built-in sample images (skips those already there).
    Seed,
    /// Export the dataset (current votes only: one per labeller per image): `csv` statistics,
    /// `jsonl` Ground Truth manifest with the consensus and its confidence, `answers` every
    /// current answer.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file [default: hotdog-export-<time>.<ext> in the current directory]; `-` for stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Only images with at least N current votes.
        #[arg(long, value_name = "N", default_value_t = 0)]
        min_votes: u64,
        /// Only images with the votes they need (votes-per-image).
        #[arg(long)]
        only_done: bool,
        /// Only images whose consensus has at least this confidence (0 to 1; the
        /// Dawid–Skene posterior, 1 for decided and gold images).
        #[arg(long, value_name = "P", value_parser = dataset::parse_confidence)]
        min_confidence: Option<f64>,
    },
    /// Gold images (known answers), mixed into labellers' rounds at --gold-rate:
    /// `set IMAGE=VOTE…`, `list [--json]`, `rm IMAGE…`.
    Gold {
        #[command(subcommand)]
        action: gold::GoldAction,
    },
    /// Answers kept locally until the label queue accepts them: `show` lists them, `flush` sends them.
    Outbox {
        #[command(subcommand)]
        action: dataset::OutboxAction,
    },
    /// Import the original system's bucket (images at its root, bare 0/1 lines in files/<stem>.txt).
    ImportOriginal(dataset::ImportArgs),
    /// The label index (`index/` in the bucket, derived from the label files): `verify`
    /// corrects what differs from the files, `rebuild` reads every label file again.
    Index {
        #[command(subcommand)]
        action: IndexAction,
    },
    /// Create the bucket and queues (with dead-letter queues) that are missing.
    Setup {
        /// Also delete reply queues left idle for a day by clients that crashed.
        #[arg(long)]
        prune: bool,
    },
    /// Load-generate and time the compute service, label writes or statistics on scratch resources.
    Bench(crate::bench::BenchArgs),
    /// Say how pictures will be drawn in this terminal, and why: what the terminal, tmux or
    /// screen answered, the colour depth, the cell size, the protocol and what was ruled out.
    Doctor,
    /// Print a shell completion script, e.g. `hotdog-tui completions bash > ~/.local/share/bash-completion/completions/hotdog-tui`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `hotdog-tui man | man -l -`; `--dir` writes one page per command.
    Man {
        /// Write hotdog-tui.1 and one page per subcommand (hotdog-tui-compute.1, …) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum IndexAction {
    /// Compare the index with a listing of images/ and labels/ and correct what differs
    /// (reads only label files whose ETag the index does not hold).
    Verify,
    /// Read every label file again and rewrite what differs, then the manifest.
    Rebuild,
}

pub async fn run(cli: Cli) -> ExitCode {
    // Generated from the clap definitions; they need no settings, so a broken config file
    // cannot stop a user from installing completions.
    match &cli.command {
        Some(Command::Completions { shell }) => return docs::completions(*shell),
        Some(Command::Man { dir }) => return docs::man(dir.as_deref()),
        _ => {}
    }
    let settings = match Settings::resolve(&cli.global) {
        Ok(s) => s,
        Err(e) => return fail(&anyhow::Error::new(e)),
    };
    // Only the headless worker narrates on stderr; other commands print their own results.
    let narrate = matches!(cli.command, Some(Command::Worker { .. }));
    let _log_guard = crate::logging::init(&settings, narrate);
    let result = match cli.command {
        None => run_tui(&settings, cli.tui).await,
        Some(cmd) => run_command(&settings, cmd).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn fail(e: &anyhow::Error) -> ExitCode {
    // `hotdog-tui stats | head` closing the pipe early is not an error worth a message.
    if e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    tracing::error!("{e:#}");
    eprintln!("error: {}", display_safe(&format!("{e:#}")));
    ExitCode::FAILURE
}

/// Opens the backend for a command, and sends what an earlier session left in the outbox.
async fn open(settings: &Settings) -> anyhow::Result<AppContext> {
    let ctx = open_only(settings).await?;
    dataset::send_kept_answers(&ctx).await;
    Ok(ctx)
}

/// Opens the backend (creating a new local store's queues and samples), nothing more.
async fn open_only(settings: &Settings) -> anyhow::Result<AppContext> {
    let (ctx, mut report) = context::connect(settings).await.map_err(explain)?;
    crate::service::samples::seed_new_store(&ctx, &mut report)
        .await
        .map_err(explain)?;
    for step in report.steps.iter().filter(|s| s.changed_something()) {
        tracing::info!("{step}");
    }
    Ok(ctx)
}

/// Adds what to do to backend errors the user can fix.
fn explain(e: BackendError) -> anyhow::Error {
    let hint = match &e {
        BackendError::NotFound {
            what: Missing::Bucket(_),
        } => Some("run `hotdog-tui setup` to create it"),
        BackendError::NotFound {
            what: Missing::Queue(_),
        } => Some("run `hotdog-tui setup` to create the queues"),
        _ => None,
    };
    match hint {
        Some(h) => anyhow::anyhow!("{e}: {h}"),
        None => anyhow::Error::new(e),
    }
}

/// Flags of the full-screen session (`hotdog-tui` with no subcommand).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TuiArgs {
    /// Do not run the embedded worker (when a headless worker runs elsewhere).
    #[arg(long)]
    pub no_worker: bool,
    /// Performance harness: exit once the first round is drawn and print the timings.
    #[arg(long, hide = true)]
    pub bench_startup: bool,
}

async fn run_tui(settings: &Settings, args: TuiArgs) -> anyhow::Result<ExitCode> {
    // The session's own outbox sender sends what an earlier one kept, and says so.
    let ctx = open_only(settings).await?;
    let opts = crate::tui::TuiOptions {
        no_worker: args.no_worker,
        image_protocol: settings.image_protocol,
        colors: settings.colors,
        bench_startup: args.bench_startup,
    };
    Ok(if crate::tui::run(ctx, opts).await? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_command(settings: &Settings, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Compute {
            numbers,
            json,
            timeout,
        } => compute(settings, &numbers.join(" "), json, timeout).await,
        Command::Label { answers, json } => dataset::label(settings, &answers, json).await,
        Command::Stats { json } => dataset::stats(settings, json).await,
        Command::Index { action } => index(settings, action).await,
        Command::Upload { paths } => upload(settings, paths).await,
        Command::Seed => {
            let ctx = open(settings).await?;
            let n = crate::service::samples::seed(&ctx).await.map_err(explain)?;
            println!(
                "seeded {n} sample images ({} were already there)",
                crate::service::samples::SAMPLES.len() - n
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            format,
            output,
            min_votes,
            only_done,
            min_confidence,
        } => {
            let filter = crate::domain::export::ExportFilter {
                min_votes,
                only_done,
                min_confidence,
            };
            dataset::export(settings, format, output, filter).await
        }
        Command::Outbox { action } => dataset::outbox(settings, action).await,
        Command::Gold { action } => gold::run(settings, action).await,
        Command::ImportOriginal(args) => dataset::import_original(settings, args).await,
        Command::Setup { prune } => setup(settings, prune).await,
        Command::Worker { pollers } => worker(settings, pollers).await,
        Command::Bench(args) => {
            let (settings, proxy) = crate::bench::with_latency(settings, &args).await?;
            let ctx = open(&settings).await?;
            crate::bench::run(&ctx, args, proxy.as_ref()).await
        }
        Command::Doctor => Ok(doctor::run(settings)),
        // Answered in `run` before the settings are read.
        Command::Completions { shell } => Ok(docs::completions(shell)),
        Command::Man { dir } => Ok(docs::man(dir.as_deref())),
    }
}

async fn compute(
    settings: &Settings,
    input: &str,
    json: bool,
    timeout: u64,
) -> anyhow::Result<ExitCode> {
    // Check before sending: a bad list never reaches the queue.
    if let Err(e) = parse_numbers(input) {
        eprintln!("{e}");
        return Ok(ExitCode::FAILURE);
    }
    let ctx = open(settings).await?;
    let client = ComputeClient::open(&ctx).await.map_err(explain)?;
    let reply = client.call(input, Duration::from_secs(timeout)).await;
    client.close().await;
    let reply = reply?;
    if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            ok: bool,
            text: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            result: Option<&'a SummaryJson>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
        }
        println!(
            "{}",
            serde_json::to_string(&Out {
                ok: reply.error.is_none(),
                text: &reply.text,
                result: reply.result.as_ref(),
                error: reply.error.as_deref()
            })?
        );
    } else if reply.error.is_none() {
        println!("{}", reply.text);
    }
    if let Some(e) = &reply.error {
        if !json {
            eprintln!("{e}");
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn upload(settings: &Settings, paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let ctx = open(settings).await?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let progress_bar = bar.clone();
    let outcomes = crate::service::upload::upload_paths(&ctx, paths, move |p| {
        if let Some(b) = &progress_bar {
            b.set_length(p.total as u64);
            b.set_position(p.done as u64);
            b.set_message(display_safe(&p.current));
        }
    })
    .await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for o in &outcomes {
        println!("{o}");
    }
    let rejected = outcomes.iter().filter(|o| o.is_rejected()).count();
    println!(
        "{} files: {} accepted, {rejected} rejected",
        outcomes.len(),
        outcomes.len() - rejected
    );
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn setup(settings: &Settings, prune: bool) -> anyhow::Result<ExitCode> {
    let result = async {
        let (ctx, mut report) = context::connect(settings).await?;
        crate::service::samples::seed_new_store(&ctx, &mut report).await?;
        context::ensure_bucket(&ctx, &mut report).await?;
        if crate::service::labeller::list_images(&ctx)
            .await?
            .is_empty()
        {
            let n = crate::service::samples::seed(&ctx).await?;
            report.steps.push(SetupStep::SeededEmptyBucket(n));
        }
        if prune {
            let pruned = context::prune_reply_queues(&ctx, Duration::from_secs(24 * 3600)).await?;
            report
                .steps
                .push(SetupStep::PrunedReplyQueues(pruned.len()));
        }
        Ok::<_, BackendError>(report)
    }
    .await;
    match result {
        Ok(report) => {
            for step in report.steps {
                println!("{step}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ BackendError::AccessDenied { .. }) => {
            eprintln!("error: {e}");
            eprintln!("setup needs these permissions (see README, \"IAM policies\", admin role):");
            eprintln!("{}", crate::iam::ADMIN_POLICY_SUMMARY);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(explain(e)),
    }
}

async fn worker(settings: &Settings, pollers: u16) -> anyhow::Result<ExitCode> {
    let ctx = open(settings).await?;
    eprintln!(
        "worker started on {} (requests: {}, labels: {}); Ctrl-C stops it",
        ctx.backend.kind.describe(),
        ctx.names.request_queue,
        ctx.names.label_queue
    );
    let config = crate::worker::WorkerConfig {
        pollers: usize::from(pollers),
        ..Default::default()
    };
    let handle = crate::worker::spawn(ctx, config);
    wait_for_stop_signal().await;
    eprintln!("stopping: finishing the messages in hand…");
    let status = handle.status.borrow().clone();
    handle.shutdown().await;
    eprintln!(
        "worker stopped: {} requests answered, {} answers written, {} errors",
        status.requests_answered, status.answers_written, status.errors
    );
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(t), Ok(h)) => (t, h),
        _ => {
            let _ = tokio::signal::ctrl_c().await; // no signal handlers: Ctrl-C only
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

async fn index(settings: &Settings, action: IndexAction) -> anyhow::Result<ExitCode> {
    use crate::service::label_index::{RebuildMode, rebuild};
    let ctx = open(settings).await?;
    let mode = match action {
        IndexAction::Verify => RebuildMode::Verify,
        IndexAction::Rebuild => RebuildMode::Rebuild,
    };
    let started = std::time::Instant::now();
    let (r, _) = rebuild(&ctx.backend.store, &Default::default(), mode)
        .await
        .map_err(explain)?;
    println!(
        "{} images, {} label files ({} read); {} entries corrected in {} shards{} in {:.1} s",
        r.images,
        r.label_files,
        r.fetched,
        r.repaired,
        r.shards_written,
        if r.manifest_written {
            "; manifest written"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
