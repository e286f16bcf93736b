//! A labeller's next round, picked against the shared state: the label files (through
//! the statistics cache) and everyone's claims, then claimed for her, so labellers at work
//! together are not all handed the last images that still need a vote. The TUI and
//! `bench labels` pick rounds through here.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures::StreamExt;

use crate::backend::{BackendError, Fetched, ObjectStore, PutCondition};
use crate::domain::claims::{self, CLAIM_TTL_MS, CLAIMS, Claim};
use crate::domain::sampling::{ROUND_SIZE, RoundChoice, choose_round, mix_gold, open_gold, pool};
use crate::service::context::AppContext;
use crate::service::statistics::{GoldCache, StatsCache};

const PARALLEL_FETCHES: usize = 16;

/// Everyone's claims files, refreshed by ETag like the statistics.
#[derive(Debug, Default, Clone)]
pub struct ClaimsCache {
    files: HashMap<String, (String, Vec<Claim>)>,
}

impl ClaimsCache {
    pub async fn refresh(&mut self, store: &dyn ObjectStore) -> Result<(), BackendError> {
        let listed = store.list_all(CLAIMS).await?;
        let keys: HashSet<&str> = listed.iter().map(|o| o.key.as_str()).collect();
        self.files.retain(|k, _| keys.contains(k.as_str()));
        let changed: Vec<(String, Option<String>)> = listed
            .iter()
            .filter(|o| {
                self.files
                    .get(&o.key)
                    .is_none_or(|(etag, _)| *etag != o.etag)
            })
            .map(|o| {
                (
                    o.key.clone(),
                    self.files.get(&o.key).map(|(e, _)| e.clone()),
                )
            })
            .collect();
        let fetched: Vec<(String, Result<Fetched, BackendError>)> = futures::stream::iter(changed)
            .map(|(key, old)| async move {
                let r = match old {
                    Some(etag) => store.get_if_changed(&key, &etag).await,
                    None => store.get(&key).await.map(|o| match o {
                        Some(o) => Fetched::Changed(o),
                        None => Fetched::Missing,
                    }),
                };
                (key, r)
            })
            .buffer_unordered(PARALLEL_FETCHES)
            .collect()
            .await;
        for (key, r) in fetched {
            match r? {
                Fetched::Changed(o) => {
                    self.files.insert(key, (o.etag, claims::parse(&o.bytes)));
                }
                Fetched::Unchanged => {}
                Fetched::Missing => {
                    self.files.remove(&key);
                }
            }
        }
        Ok(())
    }

    pub fn all(&self) -> Vec<Claim> {
        self.files
            .values()
            .flat_map(|(_, c)| c.iter().cloned())
            .collect()
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One labeller's round picking, with the caches it refreshes each time.
pub struct RoundPicker {
    pub stats: StatsCache,
    claims: ClaimsCache,
    rng: fastrand::Rng,
    /// Images in her claims file now, with when each was first claimed.
    held: HashMap<String, i64>,
    /// The gold answers, refreshed with each pick.
    gold_cache: GoldCache,
    /// The gold images (known answers), as last read.
    gold: HashSet<String>,
    /// Someone else loads the whole index (the TUI's statistics task, on a cold start):
    /// picks read a sample of it meanwhile (`StatsCache::load_sample`).
    sample_while_loading: bool,
}

impl RoundPicker {
    pub fn new(seed: u64) -> RoundPicker {
        RoundPicker {
            stats: StatsCache::new(),
            claims: ClaimsCache::default(),
            rng: fastrand::Rng::with_seed(seed),
            held: HashMap::new(),
            gold_cache: GoldCache::default(),
            gold: HashSet::new(),
            sample_while_loading: false,
        }
    }

    /// A picker whose first picks do not wait for the whole index: they read a sample of
    /// it while the caller loads the rest (see `adopt`).
    pub fn sampling_first(seed: u64) -> RoundPicker {
        RoundPicker {
            sample_while_loading: true,
            ..RoundPicker::new(seed)
        }
    }

    /// Takes over a whole view of the index loaded elsewhere; picks read it from then on.
    pub fn adopt(&mut self, stats: StatsCache) {
        self.stats = stats;
        self.sample_while_loading = false;
    }

    /// The gold images as last read (mixed into rounds; see `domain::sampling::mix_gold`).
    pub fn gold(&self) -> &HashSet<String> {
        &self.gold
    }

    /// Reads the gold answers again if they changed. An unreadable gold object mixes no
    /// gold in (and is logged once): rounds go on.
    async fn refresh_gold(&mut self, store: &dyn ObjectStore) -> Result<(), BackendError> {
        let had_problem = self.gold_cache.problem().is_some();
        self.gold_cache.refresh(store).await?;
        if let Some(problem) = self.gold_cache.problem()
            && !had_problem
        {
            tracing::warn!("{problem}; no gold images are mixed into rounds until it is fixed");
        }
        self.gold = self
            .gold_cache
            .gold()
            .iter()
            .map(|(image, _)| image.to_string())
            .collect();
        Ok(())
    }

    /// Refreshes the label files and claims, picks up to `ROUND_SIZE` images for
    /// `ctx.user` (none in `exclude`, none she answered, counting `answered_not_written`:
    /// answers of hers sent or kept but not in the files yet), and claims them together
    /// with `keep` (the images still on her screen). Then reads the claims again: an image
    /// whose last vote someone else claimed first is given up and replaced once.
    pub async fn next_round(
        &mut self,
        ctx: &AppContext,
        exclude: &HashSet<String>,
        answered_not_written: &HashSet<String>,
        keep: &[String],
    ) -> Result<RoundChoice, BackendError> {
        let store = ctx.backend.store.as_ref();
        // Claims first, then the files: a labeller drops a claim only after seeing her
        // answer in the file, so whatever was dropped before the claims were read is in
        // the files read after. Read together, an answer could slip between the two.
        self.claims.refresh(store).await?;
        self.refresh_gold(store).await?;
        let mut choice = None;
        if self.sample_while_loading && self.stats.load_sample(store, &mut self.rng).await? {
            // The sample is as fresh as its first read (seconds, until the whole index is
            // adopted); the claims above are fresh, and they keep labellers apart.
            let sampled = self.choose(ctx, exclude, answered_not_written, ROUND_SIZE);
            if matches!(&sampled, RoundChoice::Round(r) if r.len() == ROUND_SIZE) {
                choice = Some(sampled);
            }
        }
        let choice = match choice {
            Some(c) => c,
            // Not enough in the sample (a small store, or a nearly done one), or no sample:
            // the whole index decides, and says why when nothing is left.
            None => {
                self.stats.refresh(ctx).await?;
                self.choose(ctx, exclude, answered_not_written, ROUND_SIZE)
            }
        };
        let RoundChoice::Round(mut picked) = choice else {
            self.claim_with(ctx, keep, answered_not_written, &[])
                .await?;
            return Ok(choice);
        };
        self.claim_with(ctx, keep, answered_not_written, &picked)
            .await?;
        self.claims.refresh(store).await?;
        let now = now_ms();
        let all = self.claims.all();
        let summaries = self.stats.summaries();
        let yielded: Vec<String> = picked
            .iter()
            .filter(|image| {
                // Gold images need no votes: anyone who has not answered one may.
                if self.gold.contains(*image) {
                    return false;
                }
                let summary = summaries.get(image.as_str());
                let votes = summary.map_or(0, |s| s.vote_count());
                let room = ctx.votes_per_image.saturating_sub(votes);
                let since = self.held.get(*image).copied().unwrap_or(now);
                claims::yields(
                    &all,
                    image,
                    &ctx.user,
                    since,
                    room,
                    |w| summary.is_some_and(|s| s.answered_by(w)),
                    now,
                )
            })
            .cloned()
            .collect();
        if yielded.is_empty() {
            return Ok(RoundChoice::Round(picked));
        }
        picked.retain(|i| !yielded.contains(i));
        let mut skip: HashSet<String> = exclude.clone();
        skip.extend(yielded.iter().cloned());
        skip.extend(picked.iter().cloned());
        if let RoundChoice::Round(more) =
            self.choose(ctx, &skip, answered_not_written, yielded.len())
        {
            picked.extend(more);
        }
        self.claim_with(ctx, keep, answered_not_written, &picked)
            .await?;
        if picked.is_empty() {
            // Everything she was about to get went to others first: say why, in figures.
            return Ok(self.choose(ctx, &skip, answered_not_written, ROUND_SIZE));
        }
        Ok(RoundChoice::Round(picked))
    }

    fn choose(
        &mut self,
        ctx: &AppContext,
        exclude: &HashSet<String>,
        answered_not_written: &HashSet<String>,
        n: usize,
    ) -> RoundChoice {
        let pool = pool(
            &self.stats.image_names(),
            self.stats.summaries(),
            &self.claims.all(),
            &ctx.user,
            answered_not_written,
            now_ms(),
        );
        // Gold images come only through `mix_gold`, at the gold rate.
        let mut ordinary_exclude = exclude.clone();
        ordinary_exclude.extend(self.gold.iter().cloned());
        let choice = choose_round(
            &pool,
            ctx.votes_per_image,
            &ordinary_exclude,
            n,
            &mut self.rng,
        );
        let RoundChoice::Round(round) = choice else {
            return choice;
        };
        let listed: HashSet<String> = self.stats.image_names().into_iter().collect();
        // On a sample, only gold images whose answers it holds: she may have answered others.
        let gold = open_gold(
            self.gold
                .iter()
                .filter(|g| listed.contains(*g) && self.stats.holds(g)),
            self.stats.summaries(),
            &ctx.user,
            answered_not_written,
            exclude,
        );
        RoundChoice::Round(mix_gold(round, &gold, ctx.gold_rate, &mut self.rng))
    }

    /// Claims `keep`, `picked`, and her answers still on their way to the files (others
    /// would otherwise see one vote too few until the worker writes them).
    async fn claim_with(
        &mut self,
        ctx: &AppContext,
        keep: &[String],
        answered_not_written: &HashSet<String>,
        picked: &[String],
    ) -> Result<(), BackendError> {
        let summaries = self.stats.summaries();
        let mut hold: Vec<String> = keep.iter().chain(picked).cloned().collect();
        hold.extend(
            answered_not_written
                .iter()
                .filter(|i| {
                    summaries
                        .get(i.as_str())
                        .is_none_or(|s| !s.answered_by(&ctx.user))
                })
                .cloned(),
        );
        hold.sort();
        hold.dedup();
        self.claim(ctx, hold).await
    }

    /// Rewrites her claims file to hold exactly `images` (none on quit), for the next
    /// `CLAIM_TTL_MS`; images she already held keep their first claim time.
    pub async fn claim(
        &mut self,
        ctx: &AppContext,
        images: Vec<String>,
    ) -> Result<(), BackendError> {
        if images.is_empty() && self.held.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let held: HashMap<String, i64> = images
            .into_iter()
            .map(|i| {
                let since = self.held.get(&i).copied().unwrap_or(now);
                (i, since)
            })
            .collect();
        let mut lines: Vec<(String, i64)> = held.iter().map(|(i, t)| (i.clone(), *t)).collect();
        lines.sort();
        let text = claims::render(&ctx.user, &lines, now + CLAIM_TTL_MS);
        ctx.backend
            .store
            .put(
                &claims::claims_key(&ctx.user),
                Bytes::from(text),
                "text/plain; charset=utf-8",
                PutCondition::None,
            )
            .await?;
        self.held = held;
        Ok(())
    }
}
