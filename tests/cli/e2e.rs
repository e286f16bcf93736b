//! End-to-end through the real binary: a headless worker process plus `compute`, `label`,
//! `upload`, `stats --json` and `export`, on the local backend and on moto.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::install::{Install, Stop, image_of, text};

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
        text(&bad_vote)
            .1
            .contains("must be 1 (hot dog), 0 (not a hot dog) or skip"),
        "{:?}",
        text(&bad_vote)
    );
    assert!(
        i.run(&["label", "red.png=1", "blue.png=0"])
            .status
            .success()
    );
    // Another labeller: a second vote (the same labeller again would replace hers).
    assert!(
        i.run(&["--user", "e2e-2", "label", "red.png=1"])
            .status
            .success()
    );
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
        &["import-original"],
        &["import-original", "--from-dir", "a", "--from-bucket", "b"],
        &["outbox"],
        &["export", "--format", "csv", "--min-votes", "few"],
        &["--votes-per-image", "0", "stats"],
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

fn wait_for_answers(i: &Install, answers: u64) -> serde_json::Value {
    i.stats_until(Duration::from_secs(30), |s| {
        s["totals"]["answers"] == answers
    })
}

/// One vote per labeller per image: repeats and corrections supersede, skips are answers
/// but not votes, and stats and export count current votes only.
fn one_vote_per_labeller(i: Install) {
    // No store yet: the worker creates and seeds it while the first `label` opens it; the
    // seeding lock makes `label` wait for every sample (it used to find only some).
    let _worker = Stop(i.worker());
    let a = "hotdog-01.jpg";
    let b = "other-01.jpg";
    for args in [
        vec!["--user", "ann", "label", "hotdog-01.jpg=1"],
        vec!["--user", "ann", "label", "hotdog-01.jpg=1"],
        vec![
            "--user",
            "ann",
            "label",
            "hotdog-01.jpg=0",
            "other-01.jpg=skip",
        ],
        vec!["--user", "bob", "label", "hotdog-01.jpg=0"],
    ] {
        let out = i.run(&args);
        assert!(out.status.success(), "{args:?}: {:?}", text(&out));
    }
    let json = i.run(&["--user", "cat", "label", "--json", "other-01.jpg=s"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["answers"][0]["vote"], "s", "{v}");
    assert_eq!(v["kept_in_outbox"], false);
    let stats = wait_for_answers(&i, 6);
    let sa = image_of(&stats, a);
    assert_eq!(
        (
            sa["votes"].as_u64(),
            sa["not_hotdog"].as_u64(),
            sa["answers"].as_u64()
        ),
        (Some(2), Some(2), Some(4)),
        "ann once (her latest: not), bob once: {sa}"
    );
    assert_eq!(sa["majority"], "not_hot_dog");
    let sb = image_of(&stats, b);
    assert_eq!(
        (sb["votes"].as_u64(), sb["skips"].as_u64()),
        (Some(0), Some(2)),
        "{sb}"
    );
    assert_eq!(
        (
            stats["totals"]["votes"].as_u64(),
            stats["totals"]["answers"].as_u64(),
            stats["totals"]["skips"].as_u64()
        ),
        (Some(2), Some(6), Some(2))
    );
    assert_eq!(stats["votes_per_image"], 3);
    assert_eq!(sa["done"], false);
    // With 2 votes per image, hotdog-01 is done.
    let done: serde_json::Value =
        serde_json::from_slice(&i.run(&["--votes-per-image", "2", "stats", "--json"]).stdout)
            .unwrap();
    assert_eq!(image_of(&done, a)["done"], true);
    assert_eq!(done["totals"]["done_images"], 1);
    // Export: current votes only, filtered.
    let csv = i.run(&[
        "export",
        "--format",
        "csv",
        "--output",
        "-",
        "--min-votes",
        "2",
    ]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(csv.lines().count(), 2, "header + hotdog-01: {csv}");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("hotdog-01.jpg,2,0,2,"),
        "{csv}"
    );
    let manifest = i.path("done.jsonl");
    let out = i.run(&[
        "--votes-per-image",
        "2",
        "export",
        "--format",
        "jsonl",
        "--only-done",
        "--output",
        manifest.to_str().unwrap(),
    ]);
    assert!(
        text(&out).0.contains("wrote 1 rows")
            && text(&out)
                .0
                .contains("19 images with too few votes left out"),
        "{:?}",
        text(&out)
    );
    let line = std::fs::read_to_string(&manifest).unwrap();
    let m: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(
        (m["hotdog"].as_u64(), m["hotdog-metadata"]["votes"].as_u64()),
        (Some(0), Some(2))
    );
}

#[test]
fn one_vote_per_labeller_local() {
    one_vote_per_labeller(Install::local());
}

#[test]
fn one_vote_per_labeller_aws() {
    one_vote_per_labeller(Install::aws());
}

/// `label` while the local queue database is held by another process: the answer is kept
/// in the outbox (exit 0, and it says where), `outbox show` lists it offline, and `outbox
/// flush` sends it once the queue is free.
#[test]
fn cli_answers_are_kept_in_the_outbox_while_the_queue_is_locked() {
    let i = Install::local();
    i.stats(); // creates the store
    let db = i.data_dir().join("queues.sqlite3");
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let out = i.run(&["label", "hotdog-02.jpg=1"]);
    assert!(out.status.success(), "kept is not lost: {:?}", text(&out));
    let (_, err) = text(&out);
    assert!(
        err.contains("1 answer(s) are kept in the outbox") && err.contains("outbox flush"),
        "{err}"
    );
    let shown = text(&i.run(&["outbox", "show"])).0;
    assert!(shown.starts_with("1 answer(s) kept"), "{shown}");
    assert!(
        shown.contains("hotdog-02.jpg") && shown.contains("by e2e"),
        "{shown}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let flushed = i.run(&["outbox", "flush"]);
    assert_eq!(
        text(&flushed).0,
        "sent 1 answer(s) to the label queue; 0 kept",
        "{flushed:?}"
    );
    let _worker = Stop(i.worker());
    let stats = wait_for_answers(&i, 1);
    assert_eq!(image_of(&stats, "hotdog-02.jpg")["hotdog"], 1, "{stats}");
    assert!(
        text(&i.run(&["outbox", "show"]))
            .0
            .starts_with("0 answer(s) kept")
    );
}

/// Lays out a folder like the original system's bucket: images at the root, bare 0/1
/// lines in files/<stem>.txt (one for an image that is missing, one unreadable line), and
/// a file that is not an image.
fn original_layout(dir: &Path) {
    std::fs::create_dir_all(dir.join("files")).unwrap();
    std::fs::write(dir.join("red.png"), common::png(5, 5, [250, 0, 0])).unwrap();
    std::fs::write(dir.join("blue.png"), common::png(5, 5, [0, 0, 250])).unwrap();
    std::fs::write(dir.join("notes.txt"), b"not an image").unwrap();
    std::fs::write(dir.join("files/red.txt"), b"1\n1\n0\n").unwrap();
    std::fs::write(dir.join("files/blue.txt"), b"0\nmaybe\n0\n").unwrap();
    std::fs::write(dir.join("files/ghost.txt"), b"1\n").unwrap();
}

fn check_import(i: &Install, first: &std::process::Output, again: &std::process::Output) {
    let (out, err) = text(first);
    assert_eq!(
        first.status.code(),
        Some(1),
        "problems are reported: {out}\n{err}"
    );
    assert!(out.contains("images: 3 found, 2 stored"), "{out}");
    assert!(out.contains("rejected notes.txt: not a JPEG"), "{out}");
    assert!(
        out.contains("labels: 3 files, 5 votes imported (anonymous, one per line), 0 already imported, 1 unreadable lines skipped"),
        "{out}"
    );
    assert!(out.contains("files/blue.txt:2: not a bare 0 or 1"), "{out}");
    assert!(
        out.contains("files/ghost.txt: 1 votes not imported"),
        "{out}"
    );
    let (out, _) = text(again);
    assert!(out.contains("2 already here"), "{out}");
    assert!(
        out.contains("0 votes imported (anonymous, one per line), 5 already imported"),
        "{out}"
    );
    let stats = i.stats();
    let red = image_of(&stats, "red.png");
    assert_eq!(
        (
            red["votes"].as_u64(),
            red["hotdog"].as_u64(),
            red["answers"].as_u64()
        ),
        (Some(3), Some(2), Some(3)),
        "each old line its own anonymous vote: {red}"
    );
    let blue = image_of(&stats, "blue.png");
    assert_eq!(
        (blue["votes"].as_u64(), blue["not_hotdog"].as_u64()),
        (Some(2), Some(2))
    );
}

#[test]
fn import_original_from_a_folder_twice_imports_once() {
    let i = Install::local();
    let source = i.path("old");
    original_layout(&source);
    let before = std::fs::read_dir(source.join("files")).unwrap().count();
    let args = ["import-original", "--from-dir", source.to_str().unwrap()];
    let first = i.run(&args);
    let again = i.run(&args);
    check_import(&i, &first, &again);
    assert_eq!(
        std::fs::read_dir(source.join("files")).unwrap().count(),
        before
    );
    assert_eq!(
        std::fs::read(source.join("files/red.txt")).unwrap(),
        b"1\n1\n0\n",
        "only read"
    );
}

#[test]
fn import_original_from_a_bucket_twice_imports_once() {
    use hotdog_tui::backend::{ObjectStore, PutCondition};
    let i = Install::aws();
    let source = common::moto::unique_name("original");
    let dir = i.path("old");
    original_layout(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listed_before = rt.block_on(async {
        let (store, _) = common::moto::aws_backend(&source).await;
        for key in [
            "red.png",
            "blue.png",
            "notes.txt",
            "files/red.txt",
            "files/blue.txt",
            "files/ghost.txt",
        ] {
            let bytes = std::fs::read(dir.join(key)).unwrap();
            store
                .put(
                    key,
                    bytes.into(),
                    "application/octet-stream",
                    PutCondition::None,
                )
                .await
                .unwrap();
        }
        store.list_all("").await.unwrap()
    });
    let args = ["import-original", "--from-bucket", source.as_str()];
    let first = i.run(&args);
    let again = i.run(&args);
    check_import(&i, &first, &again);
    let listed_after = rt.block_on(async {
        let (store, _) = common::moto::aws_backend(&source).await;
        store.list_all("").await.unwrap()
    });
    assert_eq!(listed_before, listed_after, "the old bucket is only read");
}

/// The measured run of issue 9: 8 labellers × up to 20 rounds over 40 images, 3 votes per
/// image, through the same picker, claims and outbox as the TUI.
fn dataset_run(i: Install) {
    let out = i.run(&[
        "bench",
        "labels",
        "--votes-per-image",
        "3",
        "--labellers",
        "8",
        "--rounds",
        "20",
        "--images",
        "40",
        "--think-ms",
        "1000",
        "--json",
    ]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", text(&out)));
    println!("{v}");
    assert_eq!(v["images_short"], 0, "every image has 3 labellers: {v}");
    assert!(v["min_labellers_per_image"].as_u64().unwrap() >= 3, "{v}");
    assert!(v["votes_beyond_pct"].as_f64().unwrap() < 5.0, "{v}");
    assert_eq!(
        (
            v["seen_twice"].as_u64(),
            v["lost"].as_u64(),
            v["duplicated"].as_u64(),
            v["errors"].as_u64()
        ),
        (Some(0), Some(0), Some(0), Some(0)),
        "{v}"
    );
    assert!(out.status.success(), "{:?}", text(&out));
}

#[test]
fn dataset_run_8_labellers_40_images_local() {
    dataset_run(Install::local());
}

#[test]
fn dataset_run_8_labellers_40_images_aws() {
    dataset_run(Install::aws());
}

/// `gold set | list | rm`: known answers round-trip through the bucket object; unknown
/// images, skips, bad spellings and removing what is not gold are refused with a sentence
/// and change nothing.
fn gold_commands(i: Install) {
    let list = |i: &Install| -> serde_json::Value {
        let out = i.run(&["gold", "list", "--json"]);
        assert!(out.status.success(), "{:?}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = i.run(&["gold", "list"]);
    assert!(
        text(&out).0.contains("no gold images yet"),
        "{:?}",
        text(&out)
    );
    assert_eq!(list(&i)["count"], 0);

    let out = i.run(&["gold", "set", "hotdog-01.jpg=1", "other-01.jpg=0"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout} {stderr}");
    assert!(stdout.contains("hotdog-01.jpg\t1 (new)"), "{stdout}");
    assert!(stdout.contains("2 gold images"), "{stdout}");
    // Setting again replaces, and says what it was.
    let out = i.run(&["gold", "set", "other-01.jpg=1"]);
    assert!(
        text(&out).0.contains("other-01.jpg\t1 (was not hot dog)"),
        "{:?}",
        text(&out)
    );
    let v = list(&i);
    assert_eq!(v["count"], 2);
    assert_eq!(v["gold"][0]["image"], "hotdog-01.jpg");
    assert_eq!(v["gold"][1]["vote"], "1");
    let plain = text(&i.run(&["gold", "list"])).0;
    assert!(plain.contains("other-01.jpg\t1\thot dog"), "{plain}");

    for (args, says) in [
        (
            vec!["gold", "set", "nope.jpg=1", "hotdog-02.jpg=0"],
            "unknown image nope.jpg: nothing was set",
        ),
        (
            vec!["gold", "set", "hotdog-02.jpg=skip"],
            "a skip is not a known answer",
        ),
        (
            vec!["gold", "set", "hotdog-02.jpg=yes"],
            "must be 1 (hot dog), 0",
        ),
        (vec!["gold", "set", "hotdog-02.jpg"], "is not IMAGE=VOTE"),
        (
            vec!["gold", "set", "hotdog-02.jpg=1", "hotdog-02.jpg=0"],
            "named twice",
        ),
        (
            vec!["gold", "rm", "hotdog-01.jpg", "hotdog-02.jpg"],
            "not gold image: hotdog-02.jpg: nothing was removed",
        ),
    ] {
        let out = i.run(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert_eq!(list(&i)["count"], 2, "nothing changed");
    // Usage errors are clap's: exit 2.
    assert_eq!(i.run(&["gold", "set"]).status.code(), Some(2));

    let out = i.run(&["gold", "rm", "hotdog-01.jpg"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(
        text(&out).0.contains("removed hotdog-01.jpg"),
        "{:?}",
        text(&out)
    );
    let v = list(&i);
    assert_eq!(v["count"], 1);
    assert_eq!(v["gold"][0]["image"], "other-01.jpg");
}

#[test]
fn gold_commands_local() {
    gold_commands(Install::local());
}

#[test]
fn gold_commands_aws() {
    gold_commands(Install::aws());
}
