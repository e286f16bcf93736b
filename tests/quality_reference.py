#!/usr/bin/env python3
"""Independent reference for hotdog-tui's label-quality figures (standard library only).

Reads the current answers as `hotdog-tui export --format answers` writes them
(image,labeller,answer,at,answer_id; answer 1 / 0 / s / !1 / !0) and the gold answers
(gold/gold.txt: image<TAB>1|0, `#` comments), and prints JSON with, per image, the
consensus and its confidence; the agreement figures; and the labeller table. The
end-to-end test `stats_json_quality_*` (tests/cli/e2e.rs) runs it and compares with
`hotdog-tui stats --json`.

Written from the definitions, not from the Rust code:
- Dawid & Skene (1979) EM for two classes, with the steps documented in
  src/domain/quality/dawid_skene.rs (majority-vote start; M-step with a Beta prior of
  2 votes centred on the pooled rates; E-step; stop when no posterior moves more than
  1e-7, at most 100 iterations). Anchors: a reviewer's decision, else the gold answer.
- Krippendorff's alpha (nominal) from the coincidence matrix; Fleiss' kappa over the
  images with the modal number of votes (ties: the larger number); Gwet's AC1 with
  p_e = sum pi_k (1 - pi_k) / (q - 1), pi over images with a vote; percent agreement the
  mean share of agreeing pairs.
- Labellers: leave-one-out majority, gold accuracy, votes per minute with gaps over 300 s
  left out, first and last answer.

Usage: quality_reference.py ANSWERS.csv [GOLD.txt]
"""

import csv
import json
import math
import sys
from datetime import datetime

ANONYMOUS = "(anonymous)"
PRIOR_VOTES = 2.0
MAX_ITERATIONS = 100
TOLERANCE = 1e-7
CLAMP = 1e-4
GAP = 300


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def read(answers_path, gold_path):
    images = {}
    with open(answers_path, newline="") as f:
        for row in csv.DictReader(f):
            img = images.setdefault(row["image"], {"votes": [], "skips": [], "decision": None})
            a = row["answer"]
            who = row["labeller"] or ANONYMOUS
            if a in ("1", "0"):
                img["votes"].append((who, a == "1", row["at"]))
            elif a == "s":
                img["skips"].append((who, row["at"]))
            elif a in ("!1", "!0"):
                img["decision"] = a == "!1"
            else:
                raise SystemExit(f"unknown answer {a!r}")
    gold = {}
    if gold_path:
        with open(gold_path) as f:
            for line in f:
                line = line.rstrip("\r\n")
                if not line.strip() or (line.startswith("#") and "\t" not in line):
                    continue
                name, vote = line.rsplit("\t", 1)
                gold[name] = vote.strip() == "1"
    return images, gold


def clamp(p):
    return min(max(p, CLAMP), 1 - CLAMP)


def dawid_skene(names, images, gold):
    order = sorted(images)
    anchor = {}
    for name in order:
        d = images[name]["decision"]
        if d is not None:
            anchor[name] = d
        elif name in gold:
            anchor[name] = gold[name]
    t = {}
    for name in order:
        votes = images[name]["votes"]
        if name in anchor:
            t[name] = 1.0 if anchor[name] else 0.0
        elif votes:
            t[name] = sum(1 for _, hot, _ in votes if hot) / len(votes)
    sens = {n: 0.5 for n in names}
    spec = {n: 0.5 for n in names}
    prior = 0.5
    iterations = 0
    converged = False
    while iterations < MAX_ITERATIONS:
        iterations += 1
        sums = {n: [0.0, 0.0, 0.0, 0.0] for n in names}
        for name in order:
            if name not in t:
                continue
            ti = t[name]
            for who, hot, _ in images[name]["votes"]:
                s = sums[who]
                if hot:
                    s[0] += ti
                else:
                    s[2] += 1 - ti
                s[1] += ti
                s[3] += 1 - ti
        pooled = [sum(sums[n][k] for n in names) for k in range(4)]
        mean_sens = (1 + pooled[0]) / (2 + pooled[1])
        mean_spec = (1 + pooled[2]) / (2 + pooled[3])
        for n in names:
            s = sums[n]
            sens[n] = clamp((PRIOR_VOTES * mean_sens + s[0]) / (PRIOR_VOTES + s[1]))
            spec[n] = clamp((PRIOR_VOTES * mean_spec + s[2]) / (PRIOR_VOTES + s[3]))
        prior = clamp((1 + sum(t.values())) / (2 + len(t)))
        moved = 0.0
        for name in order:
            votes = images[name]["votes"]
            if name in anchor or not votes:
                continue
            log_odds = math.log(prior) - math.log(1 - prior)
            for who, hot, _ in votes:
                if hot:
                    log_odds += math.log(sens[who]) - math.log(1 - spec[who])
                else:
                    log_odds += math.log(1 - sens[who]) - math.log(spec[who])
            nxt = 1 / (1 + math.exp(-log_odds))
            moved = max(moved, abs(nxt - t[name]))
            t[name] = nxt
        if moved < TOLERANCE:
            converged = True
            break
    return t, sens, spec, prior, iterations, converged


def consensus(images, gold, t):
    out = {}
    for name, img in images.items():
        if img["decision"] is not None:
            out[name] = ("hot_dog" if img["decision"] else "not_hot_dog", 1.0, True)
        elif name in gold:
            out[name] = ("hot_dog" if gold[name] else "not_hot_dog", 1.0, False)
        elif name not in t:
            out[name] = ("no_votes", None, False)
        elif t[name] > 0.5:
            out[name] = ("hot_dog", t[name], False)
        elif t[name] < 0.5:
            out[name] = ("not_hot_dog", 1 - t[name], False)
        else:
            out[name] = ("tie", 0.5, False)
    return out


def agreement(units):
    # units: [hot, not] per image
    pairable = [u for u in units if sum(u) >= 2]
    # Krippendorff
    n_c = [sum(u[k] for u in pairable) for k in range(2)]
    n = sum(n_c)
    if n < 2 or n * n == sum(c * c for c in n_c):
        alpha = None
    else:
        d_o = sum((sum(u) ** 2 - sum(c * c for c in u)) / (sum(u) - 1) for u in pairable)
        d_e = (n * n - sum(c * c for c in n_c)) / (n - 1)
        alpha = 1 - d_o / d_e

    def unit_agree(u):
        m = sum(u)
        return sum(c * (c - 1) for c in u) / (m * (m - 1))

    pa = sum(unit_agree(u) for u in pairable) / len(pairable) if pairable else None
    # Fleiss over the modal count
    counts = {}
    for u in pairable:
        counts[sum(u)] = counts.get(sum(u), 0) + 1
    if counts:
        m = max(sorted(counts), key=lambda c: (counts[c], c))
        chosen = [u for u in pairable if sum(u) == m]
        p_bar = sum(unit_agree(u) for u in chosen) / len(chosen)
        p_e = sum((sum(u[k] for u in chosen) / (len(chosen) * m)) ** 2 for k in range(2))
        kappa = (p_bar - p_e) / (1 - p_e) if p_e < 1 else None
        fleiss = {"value": kappa, "images": len(chosen), "votes_per_image": m}
    else:
        fleiss = {"value": None, "images": 0, "votes_per_image": 0}
    # Gwet AC1
    rated = [u for u in units if sum(u) >= 1]
    if pa is None:
        ac1 = None
    else:
        pis = [sum(u[k] / sum(u) for u in rated) / len(rated) for k in range(2)]
        p_e = sum(p * (1 - p) for p in pis) / (2 - 1)
        ac1 = (pa - p_e) / (1 - p_e) if p_e < 1 else None
    return {
        "krippendorff_alpha": {"value": alpha, "images": len(pairable)},
        "fleiss_kappa": fleiss,
        "gwet_ac1": {"value": ac1, "images": len(pairable) if pa is not None else 0},
        "percent_agreement": {"value": pa, "images": len(pairable)},
    }


def labellers(names, images, gold, sens, spec):
    rows = []
    for who in names:
        votes = hot = skips = agree = compared = g_n = g_ok = 0
        times = []
        for name in sorted(images):
            img = images[name]
            all_hot = sum(1 for _, h, _ in img["votes"] if h)
            all_not = len(img["votes"]) - all_hot
            for w, h, at in img["votes"]:
                if w != who:
                    continue
                votes += 1
                hot += h
                oh, on = all_hot - (1 if h else 0), all_not - (0 if h else 1)
                if oh != on:
                    compared += 1
                    agree += (oh > on) == h
                if name in gold:
                    g_n += 1
                    g_ok += gold[name] == h
                if at:
                    times.append(at)
            for w, at in img["skips"]:
                if w == who:
                    skips += 1
                    if at:
                        times.append(at)
        times.sort(key=parse_time)
        parsed = [parse_time(x) for x in times]
        # Whole seconds per gap, as the labeller table counts them.
        active = sum(
            int((b - a).total_seconds())
            for a, b in zip(parsed, parsed[1:])
            if int((b - a).total_seconds()) <= GAP
        )
        rows.append(
            {
                "labeller": who,
                "votes": votes,
                "hotdog": hot,
                "skips": skips,
                "hotdog_share": hot / votes if votes else None,
                "agreement_with_others": {
                    "value": agree / compared if compared else None,
                    "images": compared,
                },
                "sensitivity": sens[who] if votes else None,
                "specificity": spec[who] if votes else None,
                "gold_accuracy": {"value": g_ok / g_n if g_n else None, "images": g_n},
                "votes_per_minute": votes / (active / 60) if active > 0 else None,
                "first_answer": times[0] if times else None,
                "last_answer": times[-1] if times else None,
            }
        )
    return rows


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    images, gold = read(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    named = sorted(
        {w for img in images.values() for w, _, _ in img["votes"] if w != ANONYMOUS}
        | {w for img in images.values() for w, _ in img["skips"] if w != ANONYMOUS}
    )
    if any(w == ANONYMOUS for img in images.values() for w, _, _ in img["votes"]):
        named.append(ANONYMOUS)
    t, sens, spec, prior, iterations, converged = dawid_skene(named, images, gold)
    cons = consensus(images, gold, t)
    units = [
        [sum(1 for _, h, _ in img["votes"] if h), sum(1 for _, h, _ in img["votes"] if not h)]
        for _, img in sorted(images.items())
    ]
    out = {
        "images": {
            name: {"consensus": c, "confidence": conf, "adjudicated": adj}
            for name, (c, conf, adj) in sorted(cons.items())
        },
        "agreement": agreement(units),
        "labellers": labellers(named, images, gold, sens, spec),
        "consensus_model": {
            "prior_hotdog": prior,
            "iterations": iterations,
            "converged": converged,
        },
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
