#!/usr/bin/env python3
"""Text-analysis benchmark: quality on real labelled data and throughput of commlog-analysis.

    python3 bench/analysis.py                       # build, run, write bench/ANALYSIS.md
    python3 bench/analysis.py --vader-reference WHEEL
        # regenerate crates/commlog-analysis/tests/data/vader_reference.tsv from the original
        # vaderSentiment 3.3.2 wheel (the scores the Rust port is tested against)

Runs the release example `crates/commlog-analysis/examples/analysis_bench.rs` (one thread) on the
shared corpora (COMMLOG_CORPORA, or shared/corpora found above the repository) and writes
bench/ANALYSIS.md with:

1. VADER's Pearson r and 3-class macro-F1 against the human ratings of the ICWSM 2014 ground
   truth (tweets, Amazon and movie review snippets);
2. precision and recall of PII detection on the labelled set
   crates/commlog-analysis/tests/data/pii_labelled.tsv;
3. banking77 accuracy of keyword rules learnt from 10 examples per intent;
4. texts per second for sentiment + key topics + PII + language per text.

Python 3.11 standard library and cargo.
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATE = os.path.join(ROOT, "crates", "commlog-analysis")
OUT = os.path.join(ROOT, "bench", "ANALYSIS.md")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/commlog-analysis-target"))
BUILD = ["cargo", "build", "--release", "-p", "commlog-analysis", "--example", "analysis_bench"]
CORPORA = [("tweets", "tweets_GroundTruth.txt"), ("amazon", "amazonReviewSnippets_GroundTruth.txt"),
           ("movies", "movieReviewSnippets_GroundTruth.txt")]
# Pearson r of the original Python vaderSentiment 3.3.2 on the same files (this script's
# --vader-reference mode prints them again).
ORIGINAL_R = {"tweets": 0.8722, "amazon": 0.5896, "movies": 0.4274}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def corpora_dir():
    if os.environ.get("COMMLOG_CORPORA"):
        return os.environ["COMMLOG_CORPORA"]
    here = ROOT
    while True:
        candidate = os.path.join(here, "shared", "corpora")
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            sys.exit("shared/corpora not found: set COMMLOG_CORPORA")
        here = parent


def vader_reference(wheel):
    """Scores every 4th text of each corpus with the original Python VADER."""
    tmp = tempfile.mkdtemp()
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp)
    sys.path.insert(0, tmp)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

    analyzer = SentimentIntensityAnalyzer()
    base = os.path.join(corpora_dir(), "sentiment")
    path = os.path.join(CRATE, "tests", "data", "vader_reference.tsv")
    with open(path, "w", encoding="utf-8") as out:
        out.write("# vaderSentiment 3.3.2 compound scores for every 4th text of the sentiment ground-truth corpora\n"
                  "# (corpus<TAB>id<TAB>compound), produced by bench/analysis.py --vader-reference.\n")
        for short, name in CORPORA:
            raw = open(os.path.join(base, name), "rb").read().decode("utf-8", "replace")
            xs, ys, k = [], [], 0
            for line in raw.splitlines():
                parts = line.rstrip("\r").split("\t", 2)
                try:
                    rating = float(parts[1])
                except (IndexError, ValueError):
                    continue
                compound = analyzer.polarity_scores(parts[2])["compound"]
                xs.append(compound)
                ys.append(rating)
                if k % 4 == 0:
                    out.write(f"{short}\t{parts[0]}\t{compound}\n")
                k += 1
            n = len(xs)
            mx, my = sum(xs) / n, sum(ys) / n
            sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            sxx = sum((x - mx) ** 2 for x in xs)
            syy = sum((y - my) ** 2 for y in ys)
            log(f"{short}: original vaderSentiment Pearson r = {sxy / (sxx * syy) ** 0.5:.4f} over {n} texts")
    log(f"wrote {path}")


def run():
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    env.setdefault("COMMLOG_CORPORA", corpora_dir())
    log("building: " + " ".join(BUILD))
    subprocess.run(BUILD, cwd=ROOT, env=env, check=True)
    binary = os.path.join(TARGET, "release", "examples", "analysis_bench")
    log("running: " + binary)
    out = subprocess.run([binary], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def write(r):
    lines = ["# Text-analysis benchmark", "",
             f"`python3 bench/analysis.py`, {datetime.date.today().isoformat()}, on this 2-core machine, one thread. "
             "It builds and runs `cargo build --release -p commlog-analysis --example analysis_bench` "
             f"(CARGO_TARGET_DIR={TARGET}) and `{TARGET}/release/examples/analysis_bench` on the shared corpora.", "",
             "## Sentiment: VADER against human ratings", "",
             "Each text scored whole (as the VADER paper does); r against the mean human rating; macro-F1 over "
             "negative/neutral/positive with the corpus convention (mean ≥ +0.5 positive, ≤ −0.5 negative) for the "
             "truth and ±0.05 for VADER.", "",
             "| corpus | texts | Pearson r | original vaderSentiment r | 3-class macro-F1 |", "|---|---|---|---|---|"]
    for c in r["vader"]:
        lines.append(f"| {c['corpus']} | {c['texts']} | {c['pearson_r']:.4f} | {ORIGINAL_R[c['corpus']]:.4f} | {c['macro_f1']:.4f} |")
    lines += ["", "The port also reproduces the original's compound score on every text of "
              "`tests/data/vader_reference.tsv` (every 4th text of the three corpora; test "
              "`sentiment::vader_reproduces_the_original_compound_scores`).", ""]
    p = r["pii"]
    lines += ["## PII detection", "",
              f"Labelled set `crates/commlog-analysis/tests/data/pii_labelled.tsv`: {p['expected_items']} expected items "
              f"(e-mails, phones, cards, IBANs, SSNs, known names) and {p['lookalike_lines']} look-alike lines that must "
              "not be masked (order ids, dates, prices, versions, IPs, ISBNs, tracking numbers, bad checksums, invalid "
              "SSNs, names inside words). A detection counts when kind and exact text match.", "",
              "| true positives | false positives | false negatives | precision | recall |", "|---|---|---|---|---|",
              f"| {p['tp']} | {p['fp']} | {p['fn']} | {p['precision']:.3f} | {p['recall']:.3f} |", ""]
    if p["errors"]:
        lines += ["Errors:", ""] + [f"- {e}" for e in p["errors"]] + [""]
    b = r["banking77"]
    lines += ["## Categorisation: banking77, keywords only", "",
              f"`learn_keywords` on the first 10 examples of each of the {b['intents']} intents ({b['train']} texts, "
              f"15 keywords per intent), `KeywordMatcher::classify` on the other {b['test']} (banking77 ships only "
              "`train.csv`, so this split stands in for its test split). A text with no matching keyword counts as "
              "wrong.", "",
              "| accuracy | answered | learning | classification |", "|---|---|---|---|",
              f"| {b['accuracy']:.3f} | {b['answered']:.3f} | {b['learn_ms']:.0f} ms | {b['classify_per_s']:.0f} texts/s |", "",
              "For comparison (corpus README): TF-IDF + linear model ≈ 0.68 and sentence embeddings + logistic "
              "regression ≈ 0.85 with 10 examples per intent.", ""]
    lines += ["## Throughput", "",
              "Per text: `sentiment::analyse` (sentence split + VADER), `topics::key_topics(text, 5)`, "
              "`pii::detect` (two known names, region US) and `language::detect`, on one thread. "
              "`snippets` are the 18,513 ground-truth texts; `messages` join 8 consecutive snippets.", "",
              "| set | texts | mean chars | seconds | texts/s |", "|---|---|---|---|---|"]
    for t in r["throughput"]:
        lines.append(f"| {t['set']} | {t['texts']} | {t['mean_chars']:.0f} | {t['seconds']:.2f} | {t['texts_per_s']:.0f} |")
    lines.append("")
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    log(f"wrote {OUT}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--vader-reference":
        vader_reference(sys.argv[2])
    else:
        write(run())
