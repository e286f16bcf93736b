//! Backend outages: with the object store and queue unreachable (a proxy in front of moto
//! that we switch off) or the local store unwritable, the worker keeps running, says it is
//! retrying with backoff (no busy loop), and recovers by itself — nothing lost.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::install::Install;
use hotdog_tui::domain::keys;
use hotdog_tui::domain::label_file::{LabelFile, Vote};
use hotdog_tui::service::context::AppContext;

use common::proxy;

async fn submit(ctx: &AppContext, rounds: usize, into: &mut HashMap<String, Vote>) {
    for r in 0..rounds {
        let answers = vec![(
            "hotdog-01.jpg".to_string(),
            if r % 2 == 0 {
                Vote::HotDog
            } else {
                Vote::NotHotDog
            },
        )];
        let ids = hotdog_tui::service::labeller::submit_round(ctx, &answers)
            .await
            .unwrap();
        into.insert(ids[0].clone(), answers[0].1);
    }
}

async fn wait_for_answers(
    ctx: &AppContext,
    want: &HashMap<String, Vote>,
    within: Duration,
) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let found = match ctx
            .backend
            .store
            .get(&keys::label_file("hotdog-01.jpg"))
            .await
        {
            Ok(Some(o)) => {
                let f = LabelFile::parse(&o.bytes);
                let ids = f.answer_ids();
                assert_eq!(ids.len(), f.lines.len(), "no duplicates");
                want.keys().filter(|id| ids.contains(id.as_str())).count()
            }
            _ => 0,
        };
        if found == want.len() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn spawn_worker(i: &Install, args: &[String]) -> std::process::Child {
    // The installation's environment (dummy keys, user, HOME); its flags come from `args`.
    let cmd = i.command(&[]);
    Command::new(common::install::BIN)
        .args(args)
        .arg("worker")
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stop(mut child: std::process::Child) -> String {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_outage_worker_retries_and_recovers() {
    let i = Install::aws();
    let ctx = i.context().await;
    let up = Arc::new(AtomicBool::new(true));
    let moto = common::moto::moto_endpoint();
    let port = proxy(moto.trim_start_matches("http://").to_string(), up.clone()).await;
    let mut args = i.args.clone();
    let at = args.iter().position(|a| a == "--endpoint-url").unwrap();
    args[at + 1] = format!("http://127.0.0.1:{port}");
    let worker = spawn_worker(&i, &args);
    let mut want = HashMap::new();
    submit(&ctx, 3, &mut want).await;
    assert_eq!(
        wait_for_answers(&ctx, &want, Duration::from_secs(30)).await,
        3
    );
    up.store(false, Ordering::SeqCst);
    submit(&ctx, 5, &mut want).await; // queued while the worker cannot reach anything
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut worker = worker;
    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker keeps running through the outage"
    );
    up.store(true, Ordering::SeqCst);
    let found = wait_for_answers(&ctx, &want, Duration::from_secs(90)).await;
    let err = stop(worker);
    let retry_lines = err.lines().filter(|l| l.contains("retrying")).count();
    eprintln!(
        "OUTAGE aws: 6 s down; {retry_lines} retry messages; {found}/{} answers after recovery",
        want.len()
    );
    assert_eq!(found, want.len(), "every answer lands after the outage");
    assert!(retry_lines >= 1, "the worker said it was retrying: {err}");
    assert!(
        retry_lines < 60,
        "backoff, not a busy loop: {retry_lines} retries in 6 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_unwritable_worker_retries_and_recovers() {
    let i = Install::local();
    let ctx = i.context().await;
    let worker = spawn_worker(&i, &i.args.clone());
    let mut want = HashMap::new();
    submit(&ctx, 2, &mut want).await;
    assert_eq!(
        wait_for_answers(&ctx, &want, Duration::from_secs(30)).await,
        2
    );
    // Break the store: `labels/` becomes a plain file, so no label file can be written
    // (chmod would not stop root, who runs CI).
    let labels = i.data_dir().join("objects").join("labels");
    let aside = i.data_dir().join("objects").join("labels-aside");
    std::fs::rename(&labels, &aside).unwrap();
    std::fs::write(&labels, b"in the way").unwrap();
    submit(&ctx, 4, &mut want).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut worker = worker;
    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker keeps running"
    );
    std::fs::remove_file(&labels).unwrap();
    std::fs::rename(&aside, &labels).unwrap();
    let found = wait_for_answers(&ctx, &want, Duration::from_secs(60)).await;
    let err = stop(worker);
    let retry_lines = err.lines().filter(|l| l.contains("retrying")).count();
    eprintln!(
        "OUTAGE local: 4 s unwritable; {retry_lines} retry messages; {found}/{} answers after recovery",
        want.len()
    );
    assert_eq!(found, want.len());
    assert!(retry_lines >= 1, "{err}");
    assert!(retry_lines < 40, "backoff, not a busy loop: {retry_lines}");
    let dlq = ctx
        .backend
        .queues
        .depth(&ctx.resources.labels_dlq)
        .await
        .unwrap();
    assert_eq!(dlq.visible, 0, "an outage does not dead-letter answers");
}
