//! The dataset commands: `label` (through the outbox), `stats`, `export`, `outbox show |
//! flush`, and `import-original`; and sending what an earlier session kept in the outbox
//! whenever a command opens the backend.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};

use super::{explain, open, open_only};
use crate::config::Settings;
use crate::domain::export::{ExportFilter, ExportFormat};
use crate::domain::label_file::AnswerKind;
use crate::domain::names::display_safe;
use crate::domain::quality::QualityReport;
use crate::domain::stats::{ImageStats, totals};
use crate::service::context::AppContext;
use crate::service::original_import::{ImportLayout, OriginalSource};
use crate::service::outbox::{self, Outbox, SendError};
use crate::service::statistics::{GoldCache, StatsCache, quality};

/// `1.jpg=1` → (`1.jpg`, hot dog); `=0` not a hot dog; `=skip` (or `=s`) a skip; `=!1` /
/// `=!0` a reviewer's decision (as the label file spells it).
pub fn parse_answer(arg: &str) -> anyhow::Result<(String, AnswerKind)> {
    let Some((image, value)) = arg.rsplit_once('=') else {
        bail!(
            "\"{}\" is not IMAGE=VOTE (for example 1.jpg=1, 1.jpg=0 or 1.jpg=skip)",
            display_safe(arg)
        );
    };
    let kind = match value.trim() {
        "skip" | "s" => AnswerKind::Skip,
        other => AnswerKind::from_code(other).with_context(|| {
            format!(
                "the vote in \"{}\" must be 1 (hot dog), 0 (not a hot dog) or skip (can't tell); a reviewer decides with !1 or !0",
                display_safe(arg)
            )
        })?,
    };
    if image.is_empty() {
        bail!("\"{}\" has no image name", display_safe(arg));
    }
    Ok((image.to_string(), kind))
}

/// Sends answers an earlier session kept (a `kill -9`, a quit during an outage); says so
/// on stderr, so a command's own output stays clean.
pub async fn send_kept_answers(ctx: &AppContext) {
    let outbox = match Outbox::for_context(ctx) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("warning: {e}");
            return;
        }
    };
    match outbox.send_pending(ctx).await {
        Ok(r) if !r.sent.is_empty() => eprintln!(
            "sent {} answer(s) kept in the outbox from an earlier session",
            r.sent.len()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: answers kept from an earlier session were not sent: {e}"),
    }
}

pub async fn label(settings: &Settings, args: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let answers = args
        .iter()
        .map(|a| parse_answer(a))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ctx = open(settings).await?;
    if answers.iter().any(|(_, k)| k.adjudication().is_some()) && !ctx.may_decide() {
        bail!(
            "only the reviewers in the config ({}) may decide with !1 or !0; you are {}: nothing was sent",
            ctx.reviewers.join(", "),
            display_safe(&ctx.user)
        );
    }
    let images: std::collections::HashSet<String> = crate::service::labeller::list_images(&ctx)
        .await
        .map_err(explain)?
        .into_iter()
        .collect();
    let unknown: Vec<String> = answers
        .iter()
        .filter(|(i, _)| !images.contains(i))
        .map(|(i, _)| display_safe(i))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "unknown image{} {}: nothing was sent (see the names with `hotdog-tui stats`)",
            if unknown.len() > 1 { "s" } else { "" },
            unknown.join(", ")
        );
    }
    let outbox = Outbox::for_context(&ctx)?;
    let given = crate::service::labeller::give(&ctx, &outbox, &answers).await?;
    let kept = match &given.sent {
        Ok(r) => r.busy,
        Err(SendError::Queue { .. }) => true,
        Err(SendError::Outbox(e)) => bail!("{e}"),
    };
    if json {
        let list: Vec<serde_json::Value> = given
            .answers
            .iter()
            .map(|a| {
                serde_json::json!({
                    "image": a.image,
                    "vote": a.answer.kind.code(),
                    "answer_id": a.answer.answer_id,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "answers": list, "kept_in_outbox": kept })
        );
    }
    match given.sent {
        Ok(r) if r.busy => eprintln!(
            "{} answer(s) are kept in {}: another hotdog-tui on this machine is sending them",
            given.answers.len(),
            outbox.path().display()
        ),
        Ok(_) if !json => println!(
            "submitted {} answers; a worker writes them to the label files",
            given.answers.len()
        ),
        Ok(_) => {}
        Err(e) => eprintln!(
            "{e}: they are in {} and go out with the next command that opens the backend (or `hotdog-tui outbox flush`)",
            outbox.path().display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--min-confidence`: a probability from 0 to 1.
pub fn parse_confidence(arg: &str) -> Result<f64, String> {
    match arg.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "\"{}\" is not a confidence from 0 to 1 (for example 0.9)",
            display_safe(arg)
        )),
    }
}

/// The statistics with the quality figures applied: the cache refreshed, the gold answers
/// read, the consensus per image.
async fn assessed(
    ctx: &AppContext,
) -> anyhow::Result<(StatsCache, GoldCache, Vec<ImageStats>, QualityReport)> {
    let mut cache = StatsCache::new();
    let mut gold = GoldCache::new();
    let (stats, gold_read) =
        tokio::join!(cache.refresh(ctx), gold.refresh(ctx.backend.store.as_ref()));
    stats.map_err(explain)?;
    gold_read.map_err(explain)?;
    if let Some(problem) = gold.problem() {
        eprintln!("warning: {problem}; the gold answers are left out");
    }
    let report = quality(&cache, gold.gold());
    let mut images = cache.images();
    report.apply_to(&mut images);
    Ok((cache, gold, images, report))
}

pub async fn stats(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let ctx = open(settings).await?;
    let (_, gold, images, report) = assessed(&ctx).await?;
    let totals = totals(&images);
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "images": images,
                "totals": totals,
                "votes_per_image": ctx.votes_per_image,
                "agreement": report.agreement,
                "labellers": report.labellers,
                "consensus_model": report.model,
                "gold": {
                    "images": gold.gold().len(),
                    "problem": gold.problem(),
                },
            }))?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<32} {:>6} {:>8} {:>6} {:<13} {:>9} {:>7} {:>5} {:>4}  {:<13} {:>10}",
        "image",
        "votes",
        "hot dog",
        "not",
        "majority",
        "agreement",
        "answers",
        "skips",
        "done",
        "consensus",
        "confidence"
    )?;
    for s in &images {
        let (hd, not, agree) = if s.votes == 0 {
            ("-".to_string(), "-".to_string(), "-".to_string())
        } else {
            (
                format!("{:.0}%", s.hotdog_pct),
                format!("{:.0}%", s.not_hotdog_pct),
                format!("{:.0}%", s.agreement * 100.0),
            )
        };
        let name: String = display_safe(&s.image).chars().take(32).collect();
        writeln!(
            out,
            "{name:<32} {:>6} {hd:>8} {not:>6} {:<13} {agree:>9} {:>7} {:>5} {:>4}  {:<13} {:>10}",
            s.votes,
            s.majority.label(),
            s.answers,
            s.skips,
            if s.done { "yes" } else { "" },
            s.consensus.label(),
            match (s.confidence, s.adjudicated) {
                (_, true) => "decided".to_string(),
                (Some(c), false) => format!("{:.3}", c),
                (None, false) => "-".to_string(),
            }
        )?;
    }
    writeln!(
        out,
        "total: {} images, {} done ({} votes each), {} labelled, {} votes ({:.0}% hot dog, {:.0}% not), {} answers, {} skips{}",
        totals.images,
        totals.done_images,
        ctx.votes_per_image,
        totals.labelled_images,
        totals.votes,
        totals.hotdog_pct,
        totals.not_hotdog_pct,
        totals.answers,
        totals.skips,
        if totals.malformed_lines > 0 {
            format!(", {} malformed lines skipped", totals.malformed_lines)
        } else {
            String::new()
        }
    )?;
    writeln!(out, "agreement: {}", report.agreement.line())?;
    if !report.labellers.is_empty() {
        writeln!(
            out,
            "{:<24} {:>6} {:>5} {:>7} {:>11} {:>6} {:>6} {:>9} {:>8}  {:<20} {:<20}",
            "labeller",
            "votes",
            "skips",
            "hot dog",
            "vs. others",
            "sens.",
            "spec.",
            "gold",
            "per min",
            "first answer",
            "last answer"
        )?;
        let pct =
            |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.0}%", v * 100.0));
        let dec = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
        for l in &report.labellers {
            let name: String = display_safe(&l.labeller).chars().take(24).collect();
            writeln!(
                out,
                "{name:<24} {:>6} {:>5} {:>7} {:>11} {:>6} {:>6} {:>9} {:>8}  {:<20} {:<20}",
                l.votes,
                l.skips,
                pct(l.hotdog_share),
                format!(
                    "{} of {}",
                    pct(l.agreement_with_others.value),
                    l.agreement_with_others.images
                ),
                dec(l.sensitivity),
                dec(l.specificity),
                format!(
                    "{} of {}",
                    pct(l.gold_accuracy.value),
                    l.gold_accuracy.images
                ),
                l.votes_per_minute
                    .map_or_else(|| "-".to_string(), |v| format!("{v:.1}")),
                l.first_answer
                    .as_deref()
                    .map(display_safe)
                    .unwrap_or_else(|| "-".into()),
                l.last_answer
                    .as_deref()
                    .map(display_safe)
                    .unwrap_or_else(|| "-".into()),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn export(
    settings: &Settings,
    format: ExportFormat,
    output: Option<PathBuf>,
    filter: ExportFilter,
) -> anyhow::Result<ExitCode> {
    let ctx = open(settings).await?;
    let (cache, _, images, _) = assessed(&ctx).await?;
    let answers = crate::service::statistics::named(cache.summaries());
    if output.as_deref() == Some(std::path::Path::new("-")) {
        let (text, _) =
            crate::service::export_file::render(&ctx, &images, &answers, format, filter);
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let path = output
        .unwrap_or_else(|| PathBuf::from(crate::service::export_file::default_file_name(format)));
    let summary = crate::service::export_file::export_filtered(
        &ctx, &images, &answers, format, filter, &path,
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    let mut notes = Vec::new();
    if summary.filtered > 0 {
        notes.push(format!(
            "{} images with too few votes{} left out",
            summary.filtered,
            if filter.min_confidence.is_some() {
                " or too little confidence"
            } else {
                ""
            }
        ));
    }
    if summary.skipped > 0 {
        notes.push(format!(
            "{} images without a consensus label (no votes, or an even split) left out",
            summary.skipped
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    println!("wrote {} rows to {}{notes}", summary.rows, path.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum OutboxAction {
    /// List the answers kept on this machine, for every backend (works offline).
    Show,
    /// Send the answers kept for the configured backend now.
    Flush,
}

pub async fn outbox(settings: &Settings, action: OutboxAction) -> anyhow::Result<ExitCode> {
    match action {
        OutboxAction::Show => {
            let journals = outbox::all_journals(&settings.state_dir)?;
            let mut out = std::io::stdout().lock();
            let total: usize = journals.iter().map(|j| j.pending.len()).sum();
            writeln!(
                out,
                "{total} answer(s) kept in {}",
                settings.state_dir.join("outbox").display()
            )?;
            for j in journals.iter().filter(|j| !j.pending.is_empty()) {
                writeln!(
                    out,
                    "for {} ({}): {}",
                    display_safe(&j.destination),
                    j.path.display(),
                    j.pending.len()
                )?;
                for a in &j.pending {
                    writeln!(
                        out,
                        "  {}  {:<11}  {}  by {}  ({})",
                        a.answer.at,
                        a.answer.kind.label(),
                        display_safe(&a.image),
                        display_safe(&a.answer.labeller),
                        a.answer.answer_id
                    )?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OutboxAction::Flush => {
            let ctx = open_only(settings).await?;
            let outbox = Outbox::for_context(&ctx)?;
            let result = outbox.send_pending(&ctx).await;
            let left = outbox.pending()?.len();
            for (dest, n) in outbox::elsewhere(&settings.state_dir, outbox.destination()) {
                eprintln!(
                    "note: {n} answer(s) are kept for another backend ({}); run `outbox flush` with its settings",
                    display_safe(&dest)
                );
            }
            match result {
                Ok(r) => {
                    println!(
                        "sent {} answer(s) to the label queue; {left} kept",
                        r.sent.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["from_bucket", "from_dir"])))]
pub struct ImportArgs {
    /// The original system's bucket (read with this installation's AWS settings).
    #[arg(long, value_name = "BUCKET")]
    pub from_bucket: Option<String>,
    /// A folder laid out like that bucket (images at its root, files/<stem>.txt).
    #[arg(long, value_name = "DIR")]
    pub from_dir: Option<PathBuf>,
    /// Prefix of the images in the source [default: the root].
    #[arg(long, value_name = "P", default_value = "")]
    pub images_prefix: String,
    /// Prefix of the original label files.
    #[arg(long, value_name = "P", default_value = "files/")]
    pub labels_prefix: String,
}

pub async fn import_original(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let fix = |p: &str| {
        let p = p.trim_start_matches('/');
        if p.is_empty() || p.ends_with('/') {
            p.to_string()
        } else {
            format!("{p}/")
        }
    };
    let layout = ImportLayout {
        images_prefix: fix(&args.images_prefix),
        labels_prefix: fix(&args.labels_prefix),
    };
    let source = match (&args.from_bucket, &args.from_dir) {
        (Some(bucket), _) => {
            let opts = crate::backend::aws::AwsOptions {
                region: settings.region.clone(),
                endpoint_url: settings.endpoint_url.clone(),
                profile: settings.profile.clone(),
                bucket: bucket.clone(),
            };
            let (store, _queues, _region, _endpoint) =
                crate::backend::aws::connect(&opts).await.map_err(explain)?;
            OriginalSource::Bucket {
                store: Arc::new(store),
                name: format!("s3://{bucket}"),
            }
        }
        (None, Some(dir)) => {
            if !dir.is_dir() {
                bail!("{} is not a folder", dir.display());
            }
            OriginalSource::Dir(dir.clone())
        }
        (None, None) => bail!("say where to import from: --from-bucket or --from-dir"),
    };
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
    let report =
        crate::service::original_import::import(&ctx, &source, &layout, |done, total, current| {
            if let Some(b) = &progress_bar {
                b.set_length(total as u64);
                b.set_position(done as u64);
                b.set_message(display_safe(current));
            }
        })
        .await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    print!("{report}");
    Ok(if report.has_problems() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::Vote;

    #[test]
    fn answers_parse() {
        assert_eq!(
            parse_answer("1.jpg=1").unwrap(),
            ("1.jpg".into(), AnswerKind::Vote(Vote::HotDog))
        );
        assert_eq!(
            parse_answer("a=b.jpg=0").unwrap(),
            ("a=b.jpg".into(), AnswerKind::Vote(Vote::NotHotDog))
        );
        assert_eq!(
            parse_answer("x.png=skip").unwrap(),
            ("x.png".into(), AnswerKind::Skip)
        );
        assert_eq!(parse_answer("x.png=s").unwrap().1, AnswerKind::Skip);
        assert_eq!(
            parse_answer("x.png=!0").unwrap().1,
            AnswerKind::Adjudication(Vote::NotHotDog)
        );
        assert!(
            parse_answer("x.png=!2")
                .unwrap_err()
                .to_string()
                .contains("a reviewer decides with !1 or !0")
        );
        assert!(
            parse_answer("1.jpg=2")
                .unwrap_err()
                .to_string()
                .contains("must be 1")
        );
        assert!(parse_answer("1.jpg").is_err());
        assert!(parse_answer("=1").is_err());
    }
}
