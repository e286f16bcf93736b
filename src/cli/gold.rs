//! `gold set | list | rm`: the known answers (gold images) in the bucket. Edits are
//! conditional writes (`service::gold::edit`), so two people editing at once keep both
//! changes; every image named must exist, and nothing is written when one does not.

use std::collections::HashSet;
use std::process::ExitCode;

use anyhow::bail;

use super::dataset::parse_answer;
use super::{explain, open};
use crate::config::Settings;
use crate::domain::gold::GoldSet;
use crate::domain::label_file::Vote;
use crate::domain::names::display_safe;
use crate::service::gold::{self, GoldError};

#[derive(Debug, Clone, clap::Subcommand)]
pub enum GoldAction {
    /// Set known answers, e.g. `gold set 1.jpg=1 7.jpg=0` (1 = hot dog, 0 = not); setting
    /// an image again replaces its answer.
    Set {
        #[arg(required = true, num_args = 1.., value_name = "IMAGE=VOTE")]
        answers: Vec<String>,
    },
    /// List the gold images and their answers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove gold images (their labellers' answers stay in the label files).
    Rm {
        #[arg(required = true, num_args = 1.., value_name = "IMAGE")]
        images: Vec<String>,
    },
}

/// `1.jpg=1` → (`1.jpg`, hot dog), spelled as `label` spells votes; a skip is refused.
pub fn parse_gold(arg: &str) -> anyhow::Result<(String, Vote)> {
    let (image, kind) = parse_answer(arg)?;
    match (kind.vote(), kind.adjudication()) {
        (Some(v), _) => Ok((image, v)),
        (None, Some(_)) => bail!(
            "\"{}\": a gold answer is 1 (hot dog) or 0 (not a hot dog), without the ! of a reviewer's decision",
            display_safe(arg)
        ),
        (None, None) => bail!(
            "\"{}\": a gold answer is 1 (hot dog) or 0 (not a hot dog); a skip is not a known answer",
            display_safe(arg)
        ),
    }
}

fn gold_error(e: GoldError) -> anyhow::Error {
    match e {
        GoldError::Backend(b) => explain(b),
        GoldError::Unreadable(p) => anyhow::anyhow!("{p}"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub async fn run(settings: &Settings, action: GoldAction) -> anyhow::Result<ExitCode> {
    match action {
        GoldAction::Set { answers } => set(settings, &answers).await,
        GoldAction::List { json } => list(settings, json).await,
        GoldAction::Rm { images } => rm(settings, &images).await,
    }
}

async fn set(settings: &Settings, args: &[String]) -> anyhow::Result<ExitCode> {
    let answers = args
        .iter()
        .map(|a| parse_gold(a))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut named = HashSet::new();
    for (image, _) in &answers {
        if !named.insert(image.as_str()) {
            bail!(
                "{} is named twice: give each image one answer (nothing was set)",
                display_safe(image)
            );
        }
    }
    let ctx = open(settings).await?;
    let images: HashSet<String> = crate::service::labeller::list_images(&ctx)
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
            "unknown image{} {}: nothing was set (see the names with `hotdog-tui stats`)",
            plural(unknown.len()),
            unknown.join(", ")
        );
    }
    let edited = gold::edit(ctx.backend.store.as_ref(), |g: &mut GoldSet| {
        answers
            .iter()
            .map(|(image, vote)| {
                g.set(image, *vote)
                    .map(|was| (image.clone(), *vote, was))
                    .map_err(|problem| format!("{}: {problem}", display_safe(image)))
            })
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .map_err(gold_error)?;
    let (changes, now) = match edited {
        Ok(done) => done,
        Err(why) => bail!("{why} (nothing was set)"),
    };
    for (image, vote, was) in changes {
        let note = match was {
            None => " (new)".to_string(),
            Some(w) if w == vote => " (unchanged)".to_string(),
            Some(w) => format!(" (was {w})"),
        };
        println!("{}\t{}{note}", display_safe(&image), vote.digit());
    }
    println!("{} gold image{}", now.len(), plural(now.len()));
    Ok(ExitCode::SUCCESS)
}

async fn list(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let ctx = open(settings).await?;
    let (gold, _) = gold::read(ctx.backend.store.as_ref())
        .await
        .map_err(gold_error)?;
    if json {
        let list: Vec<serde_json::Value> = gold
            .iter()
            .map(|(image, vote)| {
                serde_json::json!({
                    "image": image,
                    "vote": vote.digit().to_string(),
                    "label": vote.label(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "gold": list, "count": gold.len() })
        );
        return Ok(ExitCode::SUCCESS);
    }
    if gold.is_empty() {
        println!("no gold images yet (add known answers with `hotdog-tui gold set IMAGE=VOTE…`)");
        return Ok(ExitCode::SUCCESS);
    }
    for (image, vote) in gold.iter() {
        println!(
            "{}\t{}\t{}",
            display_safe(image),
            vote.digit(),
            vote.label()
        );
    }
    println!("{} gold image{}", gold.len(), plural(gold.len()));
    Ok(ExitCode::SUCCESS)
}

async fn rm(settings: &Settings, images: &[String]) -> anyhow::Result<ExitCode> {
    let ctx = open(settings).await?;
    let edited = gold::edit(ctx.backend.store.as_ref(), |g: &mut GoldSet| {
        let missing: Vec<String> = images
            .iter()
            .filter(|i| !g.contains(i))
            .map(|i| display_safe(i))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        for image in images {
            g.remove(image);
        }
        Ok(())
    })
    .await
    .map_err(gold_error)?;
    match edited {
        Ok(((), now)) => {
            for image in images {
                println!("removed {}", display_safe(image));
            }
            println!("{} gold image{}", now.len(), plural(now.len()));
            Ok(ExitCode::SUCCESS)
        }
        Err(missing) => bail!(
            "not gold image{}: {}: nothing was removed (see them with `hotdog-tui gold list`)",
            plural(missing.len()),
            missing.join(", ")
        ),
    }
}
