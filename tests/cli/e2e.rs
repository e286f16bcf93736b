//! End-to-end through the real binary: a headless worker process plus `compute`, `label`,
//! `upload`, `stats --json` and `export`, on the local backend and on moto.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::install::{Install, Stop, text};

fn votes_of(stats: &serde_json::Value, image: &str) -> u64 {
    stats["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == image)
        .map(|i| i["votes"].as_u64().unwrap())
        .unwrap_or(0)
}

fn whole_flow(i: Install) {
    let _worker = Stop(i.worker());
    // compute: the result, the JSON, and every error sentence (checked before sending).
    let ok = i.run(&["compute", "1,12,55,4"]);
    assert_eq!(
        text(&ok),
        (
            "minimum is 1 maximum is 55 average is 18 median is 8".into(),
            String::new()
        ),
        "{ok:?}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&i.run(&["compute", "--json", "1", "2"]).stdout).unwrap();
    assert_eq!(
        (json["ok"].as_bool(), json["result"]["median"].as_str()),
        (Some(true), Some("1.5"))
    );
    for (input, sentence) in [
        ("1,-5", "-5 is a negative number"),
        (
            "1 2 3 4 5 6 7 8 9 10 11",
            "11 numbers were given, but at most 10 are accepted.",
        ),
        ("1,x", "\"x\" is not a whole number"),
        ("", "No numbers were given"),
    ] {
        let out = i.run(&["compute", input]);
        assert!(!out.status.success(), "{input}");
        assert!(text(&out).1.contains(sentence), "{input}: {:?}", text(&out));
    }

    // upload: two good images, a duplicate, a renamed one and a bad file.
    std::fs::create_dir_all(i.path("up")).unwrap();
    std::fs::write(i.path("up/red.png"), common::png(6, 6, [255, 0, 0])).unwrap();
    std::fs::write(i.path("up/blue.png"), common::png(6, 6, [0, 0, 255])).unwrap();
    std::fs::write(i.path("up/notes.png"), b"not an image").unwrap();
    let up = i.run(&["upload", i.path("up").to_str().unwrap()]);
    let (out, _) = text(&up);
    assert!(
        !up.status.success(),
        "a rejected file makes the exit code non-zero"
    );
    assert!(
        out.contains("stored") && out.contains("images/red.png"),
        "{out}"
    );
    assert!(
        out.contains("rejected") && out.contains("notes.png: not a JPEG, PNG, GIF or WebP image"),
        "{out}"
    );
    let again = text(&i.run(&["upload", i.path("up/red.png").to_str().unwrap()])).0;
    assert!(
        again.contains("skipped") && again.contains("already stored as images/red.png"),
        "{again}"
    );
    std::fs::write(i.path("red.png"), common::png(7, 7, [255, 0, 0])).unwrap();
    let renamed = text(&i.run(&["upload", i.path("red.png").to_str().unwrap()])).0;
    assert!(renamed.contains("images/red-2.png"), "{renamed}");

    // label: bad answers send nothing; good ones land.
    let bad = i.run(&["label", "red.png=1", "ghost.png=0"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad)
            .1
            .contains("unknown image ghost.png: nothing was sent"),
        "{:?}",
        text(&bad)
    );
    let bad_vote = i.run(&["label", "red.png=7"]);
    assert!(
        text(&bad_vote).1.contains("must be 1 (hot dog) or 0"),
        "{:?}",
        text(&bad_vote)
    );
    assert!(
        i.run(&["label", "red.png=1", "blue.png=0"])
            .status
            .success()
    );
    assert!(i.run(&["label", "red.png=1"]).status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let s = i.stats();
        if votes_of(&s, "red.png") == 2 && votes_of(&s, "blue.png") == 1
            || Instant::now() > deadline
        {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (votes_of(&stats, "red.png"), votes_of(&stats, "blue.png")),
        (2, 1),
        "{stats}"
    );
    assert_eq!(stats["totals"]["votes"], 3);
    let red = stats["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["image"] == "red.png")
        .unwrap()
        .clone();
    assert_eq!(
        (red["hotdog"].as_u64(), red["not_hotdog"].as_u64()),
        (Some(2), Some(0))
    );

    // export: the manifest names the image by its s3 URI.
    let manifest = i.path("out.jsonl");
    let ex = i.run(&[
        "export",
        "--format",
        "jsonl",
        "--output",
        manifest.to_str().unwrap(),
    ]);
    assert!(ex.status.success(), "{:?}", text(&ex));
    let lines = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        lines
            .lines()
            .any(|l| l.contains("/images/red.png\"") && l.contains("\"hotdog\":1")),
        "{lines}"
    );
    assert!(
        lines
            .lines()
            .any(|l| l.contains("/images/blue.png\"") && l.contains("\"hotdog\":0")),
        "{lines}"
    );
}

#[test]
fn whole_flow_local() {
    let i = Install::local();
    // A fresh data dir seeds itself with the 20 samples.
    let s = i.stats();
    assert_eq!(s["totals"]["images"], 20, "{s}");
    check_private(&i.dir.path().join("data"));
    whole_flow(i);
}

#[test]
fn whole_flow_aws() {
    let i = Install::aws();
    let s = i.stats();
    assert_eq!(
        s["totals"]["images"], 20,
        "setup seeds an empty bucket: {s}"
    );
    whole_flow(i);
}

#[test]
fn compute_without_a_worker_times_out_clearly() {
    let i = Install::local();
    let out = i.run(&["compute", "--timeout", "1", "3"]);
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("no worker answered within 1s"),
        "{:?}",
        text(&out)
    );
}

fn check_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "data dir mode");
    let db = std::fs::metadata(dir.join("queues.sqlite3"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(db, 0o600, "database mode");
}

#[test]
fn usage_errors_exit_with_2() {
    let i = Install::local();
    for args in [
        &["compute"][..],
        &["label"],
        &["upload"],
        &["export"],
        &["export", "--format", "xml"],
        &["worker", "--pollers", "0"],
        &["stats", "--bogus"],
        &["nosuchcommand"],
        &["compute", "1", "--timeout", "soon"],
        &["--backend", "azure", "stats"],
    ] {
        let out = i.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {:?}", text(&out));
        assert!(
            text(&out).1.starts_with("error:"),
            "{args:?}: {:?}",
            text(&out)
        );
    }
}

/// The original report's own negative example, typed as a user would: every form reaches
/// the number parser and gets its sentence (exit 1), flags still work on either side, and
/// a refused list opens nothing (the data dir is never even created), so nothing is sent.
#[test]
fn numbers_that_start_with_a_minus_get_the_products_sentence() {
    let i = Install::local();
    let negative = "-1 is a negative number: only whole numbers of 0 or more are accepted.";
    for args in [
        &["compute", "-1,2,7,9"][..],
        &["compute", "-1,", "2"],
        &["compute", "-1"],
        &["compute", "--json", "-1,2"],
        &["compute", "-1,2", "--timeout", "5"],
        &["compute", "--timeout=5", "-1,2,7,9", "--json"],
    ] {
        let out = i.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_eq!(text(&out), (String::new(), negative.into()), "{args:?}");
    }
    let five = i.run(&["compute", "-5"]);
    assert_eq!(five.status.code(), Some(1));
    assert!(
        text(&five).1.starts_with("-5 is a negative number"),
        "{five:?}"
    );
    let missing = i.run(&["compute", "1,,2"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).1.starts_with("Number 2 is missing"),
        "{missing:?}"
    );
    // A label value that starts with a minus reaches the answer parser too.
    let label = i.run(&["label", "-1.jpg=maybe"]);
    assert_eq!(label.status.code(), Some(1), "{label:?}");
    assert!(text(&label).1.contains("-1.jpg=maybe"), "{label:?}");
    assert!(
        !i.path("data").exists(),
        "refused input must not open the backend (nothing sent)"
    );
    // Real flags keep working: help, and a misspelt flag is still a usage error.
    let help = i.run(&["compute", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help).0.contains("--timeout"), "{help:?}");
    let typo = i.run(&["compute", "--jsn", "1"]);
    assert_eq!(typo.status.code(), Some(2), "{typo:?}");
}

#[test]
fn completions_and_man_pages_come_from_the_real_flags() {
    let i = Install::local();
    for (shell, marker) in [
        ("bash", "COMPREPLY"),
        ("zsh", "#compdef hotdog-tui"),
        ("fish", "complete -c hotdog-tui"),
    ] {
        let out = i.run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script:.200}");
        assert!(
            script.contains("compute") && script.contains("timeout"),
            "{shell}"
        );
    }
    let man = i.run(&["man"]);
    assert!(man.status.success(), "{man:?}");
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH hotdog-tui"),
        "{page:.300}"
    );
    assert!(page.contains("compute"), "the subcommands are listed");
    let dir = i.path("man");
    let out = i.run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    for page in ["hotdog-tui.1", "hotdog-tui-compute.1", "hotdog-tui-label.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    let compute = std::fs::read_to_string(dir.join("hotdog-tui-compute.1")).unwrap();
    assert!(
        compute.contains("timeout"),
        "the compute page names its flags"
    );
}
