//! `bench compute`: N `ComputeClient`s, each with its own reply queue, send M requests in
//! total through the product's pipeline (an embedded worker on scratch queues, or the
//! external workers on the configured queue), and every reply is checked against
//! `domain::numbers::compute`. `--baseline` does the same work one request at a time.

mod baseline;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::{Latency, Outcome, Scratch, per_second, progress, ratio, short};
use crate::backend::counted::RequestCounts;
use crate::domain::messages::ComputeReply;
use crate::domain::numbers::compute;
use crate::service::compute_client::{CallError, ComputeClient};
use crate::service::context::AppContext;
use crate::worker::{self, WorkerConfig};

#[derive(Debug, Clone, clap::Args)]
pub struct ComputeArgs {
    /// Concurrent clients, each with its own reply queue.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub clients: u16,
    /// Requests in total, shared out among the clients.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub requests: u64,
    /// Requests each client sends at once (in batches of 10) before waiting for their
    /// replies; 1 measures plain round trips. With more, a request's round trip lasts
    /// until its whole group is answered.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub pipeline: u16,
    /// Measure the workers already consuming the configured request queue instead of
    /// an embedded one. They write their usual log object per request.
    #[arg(long)]
    pub no_worker: bool,
    /// Receive loops of the embedded worker.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub pollers: u16,
    /// Also run the simplest correct thing (one request at a time: send, receive, log,
    /// reply, delete) on the same backend and print our throughput over its.
    #[arg(long)]
    pub baseline: bool,
    /// Seconds to wait for a reply before counting it as an error.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The figures of one run (ours or the baseline).
#[derive(Debug, Clone, Default, Serialize)]
struct Figures {
    requests: u64,
    elapsed_s: f64,
    throughput_per_s: f64,
    #[serde(flatten)]
    latency: Latency,
    right: u64,
    wrong: u64,
    timeouts: u64,
    /// Wrong answers, timeouts and failed sends together.
    errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
}

/// What one client task saw.
#[derive(Default)]
struct Tally {
    samples: Vec<Duration>,
    right: u64,
    wrong: u64,
    timeouts: u64,
    failed: u64,
    first_error: Option<String>,
}

impl Tally {
    fn problem(&mut self, what: String) {
        self.first_error.get_or_insert(what);
    }

    fn merge(&mut self, other: Tally) {
        self.samples.extend(other.samples);
        self.right += other.right;
        self.wrong += other.wrong;
        self.timeouts += other.timeouts;
        self.failed += other.failed;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn figures(mut self, requests: u64, elapsed: Duration) -> Figures {
        Figures {
            requests,
            elapsed_s: elapsed.as_secs_f64(),
            throughput_per_s: per_second(self.right, elapsed),
            latency: Latency::of(&mut self.samples),
            right: self.right,
            wrong: self.wrong,
            timeouts: self.timeouts,
            errors: self.wrong + self.timeouts + self.failed,
            first_error: self.first_error,
        }
    }
}

/// Request `i`'s body: distinct per request (it starts with `i`), so a reply routed to the
/// wrong request shows up as a wrong answer. Every 100th is refused (a negative number).
fn request_text(i: u64) -> String {
    if i % 100 == 99 {
        return format!("{i}, -{}", i % 7 + 1);
    }
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut numbers = vec![i.to_string()];
    for k in 1..(1 + i % 10) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Now and then a huge value, so the exact u128 sums are exercised too.
        let n = if k == 3 && i.is_multiple_of(13) {
            x
        } else {
            x % 100_000
        };
        numbers.push(n.to_string());
    }
    numbers.join(if i.is_multiple_of(2) { "," } else { ", " })
}

/// The reply a correct worker gives: the result line, or the error sentence.
fn expected(text: &str) -> (String, bool) {
    match compute(text) {
        Ok(s) => (s.to_string(), false),
        Err(e) => (e.to_string(), true),
    }
}

fn check(tally: &mut Tally, text: &str, reply: &ComputeReply) {
    let (want, refused) = expected(text);
    if reply.text == want && reply.error.is_some() == refused {
        tally.right += 1;
    } else {
        tally.wrong += 1;
        tally.problem(format!(
            "request {text:?} got {:?}, expected {want:?}",
            reply.text
        ));
    }
}

pub(super) async fn run(s: &Scratch, args: &ComputeArgs) -> anyhow::Result<Outcome> {
    let (ours, requests) = run_ours(s, args).await?;
    let baseline = match args.baseline {
        true => Some(baseline::run_baseline(s, args).await?),
        false => None,
    };
    let ratio = baseline
        .as_ref()
        .and_then(|b| ratio(ours.throughput_per_s, b.throughput_per_s));
    let passed = ours.errors == 0 && baseline.as_ref().is_none_or(|b| b.errors == 0);
    let worker = if args.no_worker {
        "external".to_string()
    } else {
        format!("embedded ({} pollers)", args.pollers)
    };
    let mut json = serde_json::to_value(&ours)?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("bench".into(), json!("compute"));
        obj.insert("backend".into(), json!(s.ctx.backend.kind.describe()));
        obj.insert("clients".into(), json!(args.clients));
        obj.insert("pipeline".into(), json!(args.pipeline));
        obj.insert("worker".into(), json!(worker));
        obj.insert("requests".into(), requests.to_json(ours.requests));
        if let Some(b) = &baseline {
            obj.insert("baseline".into(), serde_json::to_value(b)?);
            obj.insert("ratio".into(), json!(ratio));
        }
    }
    let mut text = format!(
        "compute on {}: {} clients, {} requests, pipeline {}, {worker} worker\n",
        s.ctx.backend.kind.describe(),
        args.clients,
        args.requests,
        args.pipeline
    );
    text.push_str(&lines(&ours));
    text.push_str(&requests.line(ours.requests));
    if let Some(b) = &baseline {
        text.push_str("baseline, one request at a time (send, receive, log, reply, delete):\n");
        text.push_str(&lines(b));
        if let Some(r) = ratio {
            text.push_str(&format!(
                "  ratio        {r:.2}× the baseline's throughput\n"
            ));
        }
    }
    Ok(Outcome { json, text, passed })
}

fn lines(f: &Figures) -> String {
    let mut t = format!(
        "  throughput   {:.0} requests/s ({} right in {} s)\n  round trip   {}\n  checks       {} right, {} wrong, {} timed out, {} errors\n",
        f.throughput_per_s,
        f.right,
        short(f.elapsed_s),
        f.latency.line(),
        f.right,
        f.wrong,
        f.timeouts,
        f.errors
    );
    if let Some(e) = &f.first_error {
        t.push_str(&format!("  first error  {e}\n"));
    }
    t
}

/// Requests the clients and the embedded worker made while the requests were driven.
struct RequestsUsed {
    client: RequestCounts,
    worker: Option<RequestCounts>,
}

impl RequestsUsed {
    fn to_json(&self, requests: u64) -> serde_json::Value {
        let per = |c: &RequestCounts| c.total() as f64 / requests.max(1) as f64;
        json!({
            "client": self.client.to_json(),
            "client_per_request": per(&self.client),
            "worker": self.worker.as_ref().map(RequestCounts::to_json),
            "worker_per_request": self.worker.as_ref().map(per),
        })
    }

    fn line(&self, requests: u64) -> String {
        let per = |c: &RequestCounts| c.total() as f64 / requests.max(1) as f64;
        let list = |c: &RequestCounts| {
            c.by_request
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut t = format!(
            "  requests     clients {:.2} per request ({})\n",
            per(&self.client),
            list(&self.client)
        );
        if let Some(w) = &self.worker {
            t.push_str(&format!(
                "               worker {:.2} per request ({})\n",
                per(w),
                list(w)
            ));
        }
        t
    }
}

async fn run_ours(s: &Scratch, args: &ComputeArgs) -> anyhow::Result<(Figures, RequestsUsed)> {
    // External workers consume the configured request queue; ours consumes the scratch one.
    let plain_client_ctx: &AppContext = if args.no_worker { &s.user_ctx } else { &s.ctx };
    let (client_backend, client_requests) = plain_client_ctx.backend.counted();
    let client_ctx = &AppContext {
        backend: client_backend,
        ..plain_client_ctx.clone()
    };
    let (worker_backend, worker_requests) = s.ctx.backend.counted();
    let worker = (!args.no_worker).then(|| {
        worker::spawn(
            AppContext {
                backend: worker_backend,
                ..s.ctx.clone()
            },
            WorkerConfig {
                pollers: usize::from(args.pollers),
                prune_idle: None,
                ..WorkerConfig::default()
            },
        )
    });
    let mut clients = Vec::with_capacity(usize::from(args.clients));
    let mut opened = Ok(());
    for _ in 0..args.clients {
        match ComputeClient::open(client_ctx).await {
            Ok(c) => {
                s.track_queue(c.reply_url().to_string());
                clients.push(Arc::new(c));
            }
            Err(e) => {
                opened = Err(e);
                break;
            }
        }
    }
    let (client_before, worker_before) = (client_requests.snapshot(), worker_requests.snapshot());
    let result = match opened {
        Ok(()) => Ok(drive(&clients, args).await),
        Err(e) => Err(anyhow::Error::new(e).context("cannot open the bench clients")),
    };
    let used = RequestsUsed {
        client: client_requests.snapshot().since(&client_before),
        worker: (!args.no_worker).then(|| worker_requests.snapshot().since(&worker_before)),
    };
    if let Some(w) = worker {
        w.shutdown().await;
    }
    for c in clients {
        // Only fails if a task still holds it; cleanup deletes the reply queue then.
        if let Ok(c) = Arc::try_unwrap(c) {
            c.close().await;
        }
    }
    result.map(|figures| (figures, used))
}

async fn drive(clients: &[Arc<ComputeClient>], args: &ComputeArgs) -> Figures {
    let next = Arc::new(AtomicU64::new(0));
    let bar = progress(args.requests, "compute");
    let timeout = Duration::from_secs(args.timeout);
    let (total, group) = (args.requests, u64::from(args.pipeline));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in clients {
        let (client, next, bar) = (client.clone(), next.clone(), bar.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            loop {
                let start = next.fetch_add(group, Ordering::Relaxed);
                if start >= total {
                    return tally;
                }
                let texts: Vec<String> = (start..(start + group).min(total))
                    .map(request_text)
                    .collect();
                let sent = Instant::now();
                match client.call_many(&texts, timeout).await {
                    Ok(replies) => {
                        let took = sent.elapsed();
                        for (text, reply) in texts.iter().zip(replies) {
                            match reply {
                                Ok(r) => {
                                    tally.samples.push(took);
                                    check(&mut tally, text, &r);
                                }
                                Err(CallError::Timeout(_)) => {
                                    tally.timeouts += 1;
                                    tally.problem(format!("no reply to {text:?} in {timeout:?}"));
                                }
                                Err(CallError::Backend(e)) => {
                                    tally.failed += 1;
                                    tally.problem(e.to_string());
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tally.failed += texts.len() as u64;
                        tally.problem(format!("sending failed: {e}"));
                    }
                }
                bar.inc(texts.len() as u64);
            }
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(t) => tally.merge(t),
            Err(e) => tally.problem(format!("a client task failed: {e}")),
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    tally.figures(total, elapsed)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_distinct_and_mostly_valid() {
        let texts: Vec<String> = (0..1000).map(request_text).collect();
        let distinct: std::collections::HashSet<&String> = texts.iter().collect();
        assert_eq!(distinct.len(), texts.len());
        let refused = texts.iter().filter(|t| expected(t).1).count();
        assert_eq!(refused, 10);
    }
}
