#!/usr/bin/env python3
"""Sentence-embedding benchmark: sentiment quality, few-shot categorisation and speed.

    COMMLOG_MODELS_DIR=/path/to/models python3 bench/embeddings.py
    STRIDE=4 python3 bench/embeddings.py      # every 4th held-out text only (quicker)

Builds and runs `cargo run --release -p commlog-embed --example evaluate` pinned to one core
(`taskset -c 0`), which reports:

1. the sentiment engine ("minilm-head": all-MiniLM-L6-v2 + the bundled ridge head) on the held-out
   30 % of each human-rated corpus (split by a hash of the id; the head never saw these texts):
   Pearson r with the human mean and 3-class macro-F1 (classes at +-0.5 on the -4..4 scale, the
   same for truth and prediction);
2. banking77 with 10 examples per intent (the 10 with the smallest FNV-1a hash of the text),
   accuracy over all remaining queries;
3. texts embedded per second on one core, batched and one call per text.

Writes bench/EMBEDDINGS.md. Python 3.11 standard library; needs cargo, taskset and the corpora
(COMMLOG_CORPORA or shared/corpora beside the repository).
"""

import datetime
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "bench", "EMBEDDINGS.md")
STRIDE = int(os.environ.get("STRIDE", "1"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
VADER = {"tweets": 0.875, "amazon": 0.570, "movies": 0.420}


def main():
    if not os.environ.get("COMMLOG_MODELS_DIR"):
        sys.exit("set COMMLOG_MODELS_DIR to the folder holding all-minilm-l6-v2/")
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET)
    build = ["cargo", "build", "--release", "-p", "commlog-embed", "--example", "evaluate"]
    subprocess.run(build, cwd=REPO, env=env, check=True)
    binary = os.path.join(TARGET, "release", "examples", "evaluate")
    run = ["taskset", "-c", "0", binary, str(STRIDE)]
    print("running:", " ".join(run), file=sys.stderr)
    load = os.getloadavg()
    report = json.loads(subprocess.run(run, cwd=REPO, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout)
    report["load_before"] = load
    write(report)
    print(open(OUT).read())


def write(r):
    t, b = r["throughput"], r["banking77"]
    lines = [
        "# Sentence-embedding benchmark",
        "",
        f"`python3 bench/embeddings.py` (STRIDE={STRIDE}), {datetime.date.today()}, on this 2-core machine. "
        f"It runs `taskset -c 0 $CARGO_TARGET_DIR/release/examples/evaluate {STRIDE}` after "
        "`cargo build --release -p commlog-embed --example evaluate`, so everything below used one core "
        f"(the process saw {r['threads']} thread(s) available). The machine is shared: load average "
        f"{r['load_before'][0]:.1f} when the run started, so the speed below is a lower bound.",
        "",
        f"Engine `{r['engine']}`, version `{r['version']}`: all-MiniLM-L6-v2 (run in Rust on candle, mean pooling, "
        "L2-normalised) and a ridge-regression head trained by "
        "`cargo run --release -p commlog-embed --example train_sentiment_head` on the 70 % training part of the "
        "three corpora.",
        "",
        "## Sentiment, held-out 30 % of each corpus",
        "",
        "Split per corpus by FNV-1a-64 of `<corpus>:<id>` modulo 100 (< 70 train). Classes for macro-F1: "
        "mean rating >= +0.5 positive, <= -0.5 negative, else neutral (score / 4 at +-0.125), the same "
        "thresholds for the human mean and the engine's score. VADER's r is on the full corpora "
        "(shared/corpora/sentiment/README.md).",
        "",
        "| corpus | held-out texts | Pearson r | macro-F1 | VADER r |",
        "|---|---|---|---|---|",
    ]
    for s in r["sentiment"]:
        lines.append(f"| {s['corpus']} | {s['texts']} | {s['pearson']:.3f} | {s['macro_f1']:.3f} | "
                     f"{VADER.get(s['corpus'], float('nan')):.3f} |")
    lines += [
        "",
        f"Scoring the held-out texts took {r['sentiment_seconds']:.1f} s.",
        "",
        "## banking77, 10 examples per intent",
        "",
        f"{b['intents']} intents, {b['per_intent']} examples each (smallest FNV-1a hash of the text), "
        f"{b['queries']} other queries of `train.csv` classified (the corpus ships no separate test split).",
        "",
        "| classifier | accuracy |",
        "|---|---|",
        f"| ExampleClassifier (default: centroid and nearest example blended) | {b['accuracy']:.3f} |",
        f"| nearest centroid only | {b['accuracy_centroid_only']:.3f} |",
        f"| nearest example only (1-NN) | {b['accuracy_nearest_only']:.3f} |",
        "",
        f"Mean confidence {b['mean_confidence']:.3f}. The classifier's defaults (centroid weight 0.5, softmax "
        "temperature 0.035) were picked on every 4th of these queries: the centroid weight barely matters "
        "between 0.3 and 0.7, and the temperature never changes which intent wins, it only calibrates the "
        "confidence (mean confidence close to the accuracy). With a confidence threshold "
        "(`with_min_confidence`), below which `classify` answers nothing:",
        "",
        "| threshold | answered | accuracy of answers |",
        "|---|---|---|",
    ]
    for thr, answered, acc in b["thresholds"]:
        lines.append(f"| {thr:.1f} | {answered:.1%} | {acc:.3f} |")
    lines += [
        "",
        f"Embedding and classifying took {r['banking77_seconds']:.1f} s.",
        "",
        "## Speed, one core",
        "",
        f"{t['texts']} held-out sentiment texts (mean {t['mean_tokens']:.1f} tokens including [CLS]/[SEP]):",
        "",
        f"- batched (`Embedder::embed` on all of them): **{t['batched_texts_per_second']:.0f} texts/s**",
        f"- one call per text: {t['single_call_ms']:.1f} ms per text",
        f"- loading the model: {r['load_seconds']:.2f} s",
        "",
    ]
    with open(OUT, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
