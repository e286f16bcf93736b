//! `stats --json`'s quality figures end to end, on the local backend and on moto: scripted
//! answers and one reviewer's decision go through `label` and a worker (the product's
//! path), the gold answers through `gold set`, and every figure is checked against
//! tests/quality_reference.py, an independent standard-library Python implementation run
//! on `export --format answers`.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::install::{Install, Stop, text};
use hotdog_tui::domain::gold::GoldSet;
use hotdog_tui::domain::label_file::Vote;
use serde_json::Value;

/// (labeller, answers) in the order given; an empty labeller is a pause of 1.1 s.
const SCRIPT: &[(&str, &[&str])] = &[
    (
        "ann",
        &["hotdog-01.jpg=1", "hotdog-02.jpg=1", "hotdog-03.jpg=1"],
    ),
    (
        "bob",
        &[
            "hotdog-01.jpg=1",
            "hotdog-02.jpg=1",
            "hotdog-03.jpg=0",
            "other-01.jpg=0",
        ],
    ),
    (
        "cat",
        &[
            "hotdog-01.jpg=1",
            "hotdog-02.jpg=0",
            "hotdog-03.jpg=1",
            "other-01.jpg=0",
        ],
    ),
    ("", &[]),
    (
        "ann",
        &[
            "other-01.jpg=0",
            "other-02.jpg=0",
            "other-03.jpg=1",
            "hotdog-04.jpg=skip",
        ],
    ),
    (
        "bob",
        &["other-02.jpg=0", "other-03.jpg=0", "hotdog-04.jpg=1"],
    ),
    (
        "cat",
        &["other-02.jpg=1", "other-03.jpg=0", "hotdog-04.jpg=1"],
    ),
    (
        "dan",
        &[
            "hotdog-01.jpg=1",
            "other-01.jpg=0",
            "other-03.jpg=0",
            "hotdog-04.jpg=0",
        ],
    ),
    ("", &[]),
    // ann changes her mind: her earlier other-02 vote is superseded.
    ("ann", &["other-02.jpg=1"]),
];

fn scripted_answers() -> u64 {
    SCRIPT.iter().map(|(_, a)| a.len() as u64).sum()
}

fn close(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!(
            (x - y).abs() < 0.0005 || ((x - y) / y).abs() < 1e-6,
            "{what}: hotdog-tui {x} vs reference {y}"
        ),
        _ => assert_eq!(a, b, "{what}"),
    }
}

fn quality_flow(i: Install) {
    // Opens (and seeds) the store before the worker starts, so they do not race to.
    i.stats();
    let worker = Stop(i.worker());
    for (who, answers) in SCRIPT {
        if who.is_empty() {
            std::thread::sleep(Duration::from_millis(1100));
            continue;
        }
        let mut args = vec!["--user", who, "label"];
        args.extend_from_slice(answers);
        let out = i.run(&args);
        assert!(out.status.success(), "{args:?}: {:?}", text(&out));
    }
    // A reviewer's decision on the contested hotdog-03, given from a script; someone not
    // in `reviewers` is refused and nothing is sent.
    let refused = i.run(&[
        "--user",
        "ann",
        "--reviewers",
        "rev",
        "label",
        "hotdog-03.jpg=!1",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{:?}", text(&refused));
    assert!(
        text(&refused)
            .1
            .contains("only the reviewers in the config (rev) may decide"),
        "{:?}",
        text(&refused)
    );
    let decided = i.run(&[
        "--user",
        "rev",
        "--reviewers",
        "rev",
        "label",
        "hotdog-03.jpg=!0",
    ]);
    assert!(decided.status.success(), "{:?}", text(&decided));
    let deadline = Instant::now() + Duration::from_secs(30);
    while i.stats()["totals"]["answers"] != scripted_answers() + 1 {
        assert!(Instant::now() < deadline, "the answers never landed");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(worker);

    // The gold answers, through the product's command.
    let mut gold = GoldSet::new();
    gold.set("hotdog-02.jpg", Vote::HotDog).unwrap();
    gold.set("other-02.jpg", Vote::NotHotDog).unwrap();
    let set = i.run(&["gold", "set", "hotdog-02.jpg=1", "other-02.jpg=0"]);
    assert!(set.status.success(), "{:?}", text(&set));
    let gold_file = i.path("gold.txt");
    std::fs::write(&gold_file, gold.to_bytes()).unwrap();

    let stats = i.stats();
    let answers = i.run(&["export", "--format", "answers", "--output", "-"]);
    assert!(answers.status.success(), "{:?}", text(&answers));
    let answers_file = i.path("answers.csv");
    std::fs::write(&answers_file, &answers.stdout).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/quality_reference.py");
    let py = Command::new("python3")
        .arg(script)
        .arg(&answers_file)
        .arg(&gold_file)
        .output()
        .expect("python3 runs the reference");
    assert!(py.status.success(), "{:?}", text(&py));
    let reference: Value = serde_json::from_slice(&py.stdout).unwrap();

    // Facts that need no reference: the decision and the gold answers settle their images.
    let image = |name: &str| -> Value {
        stats["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["image"] == name)
            .cloned()
            .unwrap()
    };
    let decided = image("hotdog-03.jpg");
    assert_eq!(
        (
            &decided["consensus"],
            &decided["confidence"],
            &decided["adjudicated"]
        ),
        (
            &Value::from("not_hot_dog"),
            &Value::from(1.0),
            &Value::from(true)
        ),
        "{decided}"
    );
    assert_eq!(decided["majority"], "hot_dog", "votes say hot dog 2–1");
    assert_eq!(image("hotdog-02.jpg")["confidence"], 1.0);
    assert_eq!(stats["gold"]["images"], 2);

    // Every image the reference saw.
    let ref_images = reference["images"].as_object().unwrap();
    assert_eq!(ref_images.len(), 7, "{reference}");
    for (name, want) in ref_images {
        let got = image(name);
        assert_eq!(got["consensus"], want["consensus"], "{name}");
        assert_eq!(got["adjudicated"], want["adjudicated"], "{name}");
        close(&got["confidence"], &want["confidence"], name);
    }
    // Agreement.
    for figure in [
        "krippendorff_alpha",
        "fleiss_kappa",
        "gwet_ac1",
        "percent_agreement",
    ] {
        let (got, want) = (&stats["agreement"][figure], &reference["agreement"][figure]);
        close(&got["value"], &want["value"], figure);
        assert_eq!(got["images"], want["images"], "{figure}");
        assert!(got["value"].is_f64(), "{figure} is defined here: {got}");
    }
    assert_eq!(
        stats["agreement"]["fleiss_kappa"]["votes_per_image"],
        reference["agreement"]["fleiss_kappa"]["votes_per_image"]
    );
    // Labellers.
    let got = stats["labellers"].as_array().unwrap();
    let want = reference["labellers"].as_array().unwrap();
    let names: Vec<&Value> = got.iter().map(|l| &l["labeller"]).collect();
    assert_eq!(names, ["ann", "bob", "cat", "dan"]);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let who = g["labeller"].as_str().unwrap();
        for field in ["votes", "hotdog", "skips", "first_answer", "last_answer"] {
            assert_eq!(g[field], w[field], "{who} {field}");
        }
        for field in [
            "hotdog_share",
            "sensitivity",
            "specificity",
            "votes_per_minute",
        ] {
            close(&g[field], &w[field], &format!("{who} {field}"));
        }
        for field in ["agreement_with_others", "gold_accuracy"] {
            close(
                &g[field]["value"],
                &w[field]["value"],
                &format!("{who} {field}"),
            );
            assert_eq!(g[field]["images"], w[field]["images"], "{who} {field}");
        }
    }
    // ann answered in two sittings a second or more apart: she has a pace.
    assert!(got[0]["votes_per_minute"].is_f64(), "{}", got[0]);
    assert_eq!(
        (got[0]["votes"].as_u64(), got[0]["skips"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(
        stats["consensus_model"]["iterations"],
        reference["consensus_model"]["iterations"]
    );

    // The manifest follows the consensus; --min-confidence filters on it.
    let jsonl = i.run(&["export", "--format", "jsonl", "--output", "-"]);
    let jsonl = String::from_utf8(jsonl.stdout).unwrap();
    let line = jsonl
        .lines()
        .find(|l| l.contains("images/hotdog-03.jpg"))
        .unwrap();
    let m: Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        (m["hotdog"].as_u64(), &m["hotdog-metadata"]["adjudicated"]),
        (Some(0), &Value::from(true))
    );
    let sure = i.run(&[
        "export",
        "--format",
        "jsonl",
        "--output",
        "-",
        "--min-confidence",
        "0.999",
    ]);
    let sure = String::from_utf8(sure.stdout).unwrap();
    let expected_sure = stats["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["confidence"].as_f64().is_some_and(|c| c >= 0.999))
        .filter(|s| s["consensus"] == "hot_dog" || s["consensus"] == "not_hot_dog")
        .count();
    assert_eq!(sure.lines().count(), expected_sure, "{sure}");
    let bad = i.run(&["export", "--format", "jsonl", "--min-confidence", "1.5"]);
    assert_eq!(bad.status.code(), Some(2), "{:?}", text(&bad));
}

#[test]
fn stats_json_quality_local() {
    quality_flow(Install::local());
}

#[test]
fn stats_json_quality_aws() {
    quality_flow(Install::aws());
}
