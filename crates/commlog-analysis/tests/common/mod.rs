//! Loaders for the evaluation data, shared by the integration tests and the benchmark
//! example (which includes this file by path).

use commlog_analysis::pii::{PiiContext, PiiKind, detect};
use std::path::{Path, PathBuf};

/// The shared corpora directory: `$COMMLOG_CORPORA`, or `shared/corpora` found by walking
/// up from this crate.
pub fn corpora_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("COMMLOG_CORPORA") {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    let mut here = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    while let Some(dir) = here {
        let candidate = dir.join("shared").join("corpora");
        if candidate.is_dir() {
            return Some(candidate);
        }
        here = dir.parent();
    }
    None
}

/// One human-rated text: mean rating in −4..=4 and the text.
pub struct Rated {
    pub id: String,
    pub rating: f64,
    pub text: String,
}

/// Reads a `id<TAB>rating<TAB>text` ground-truth file (CRLF, some invalid UTF-8 read lossily).
pub fn read_ground_truth(path: &Path) -> std::io::Result<Vec<Rated>> {
    let bytes = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut parts = line.trim_end_matches('\r').splitn(3, '\t');
            let id = parts.next()?.to_owned();
            let rating = parts.next()?.trim().parse().ok()?;
            let text = parts.next()?.to_owned();
            Some(Rated { id, rating, text })
        })
        .collect())
}

/// The three sentiment corpora as (short name, file name).
pub const SENTIMENT_CORPORA: [(&str, &str); 3] = [
    ("tweets", "tweets_GroundTruth.txt"),
    ("amazon", "amazonReviewSnippets_GroundTruth.txt"),
    ("movies", "movieReviewSnippets_GroundTruth.txt"),
];

/// 3 classes from a −4..=4 rating (corpus README convention): ≥ 0.5 positive, ≤ −0.5 negative.
pub fn rating_class(rating: f64) -> usize {
    if rating >= 0.5 {
        2
    } else if rating <= -0.5 {
        0
    } else {
        1
    }
}

/// 3 classes from a score in −1..=1 with VADER's ±0.05 thresholds.
pub fn score_class(score: f64) -> usize {
    if score >= 0.05 {
        2
    } else if score <= -0.05 {
        0
    } else {
        1
    }
}

pub fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len().min(ys.len()) as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}

pub fn macro_f1(truth: &[usize], predicted: &[usize], classes: usize) -> f64 {
    let mut total = 0.0;
    for c in 0..classes {
        let tp = truth
            .iter()
            .zip(predicted)
            .filter(|&(t, p)| *t == c && *p == c)
            .count() as f64;
        let fp = truth
            .iter()
            .zip(predicted)
            .filter(|&(t, p)| *t != c && *p == c)
            .count() as f64;
        let fn_ = truth
            .iter()
            .zip(predicted)
            .filter(|&(t, p)| *t == c && *p != c)
            .count() as f64;
        let f1 = if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        };
        total += f1;
    }
    total / classes as f64
}

/// One line of the labelled PII set: the text and its expected (kind, substring) items.
pub struct PiiCase {
    pub text: String,
    pub expected: Vec<(String, String)>,
}

/// Parses `tests/data/pii_labelled.tsv`: the known names and the cases.
pub fn read_pii_labelled() -> (Vec<String>, Vec<PiiCase>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pii_labelled.tsv");
    let content = std::fs::read_to_string(path).unwrap_or_default();
    let mut names = Vec::new();
    let mut cases = Vec::new();
    for line in content.lines() {
        if let Some(list) = line.strip_prefix("#names\t") {
            names = list.split('|').map(str::to_owned).collect();
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((expected, text)) = line.split_once('\t') else {
            continue;
        };
        let expected = if expected == "-" {
            Vec::new()
        } else {
            expected
                .split(" ;; ")
                .filter_map(|item| {
                    item.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                })
                .collect()
        };
        cases.push(PiiCase {
            text: text.to_owned(),
            expected,
        });
    }
    (names, cases)
}

/// banking77 `train.csv` rows as (text, category).
pub fn read_banking77(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(dir.join("train.csv"))?;
    Ok(reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| match (r.get(0), r.get(1), r.len()) {
            (Some(text), Some(category), 2) => {
                Some((text.trim().to_owned(), category.trim().to_owned()))
            }
            _ => None,
        })
        .collect())
}

/// Labelled rows: (text, category).
pub type Rows = Vec<(String, String)>;

/// Deterministic split: the first `per_class` examples of each category (file order) train,
/// the rest test.
pub fn split_per_class(rows: &[(String, String)], per_class: usize) -> (Rows, Rows) {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for row in rows {
        let n = seen.entry(row.1.as_str()).or_default();
        if *n < per_class {
            train.push(row.clone());
        } else {
            test.push(row.clone());
        }
        *n += 1;
    }
    (train, test)
}

fn kind_name(kind: PiiKind) -> &'static str {
    match kind {
        PiiKind::Email => "EMAIL",
        PiiKind::Card => "CARD",
        PiiKind::Iban => "IBAN",
        PiiKind::NationalId => "NATIONAL_ID",
        PiiKind::Phone => "PHONE",
        PiiKind::Name => "NAME",
    }
}

/// Span-level scores on `tests/data/pii_labelled.tsv`: (true positives, false positives,
/// false negatives, one line per error). A detection is right when its kind and exact text
/// equal an expected item.
pub fn evaluate_pii() -> (usize, usize, usize, Vec<String>) {
    let (names, cases) = read_pii_labelled();
    let ctx = PiiContext {
        known_names: names.into(),
        default_region: "US".to_owned(),
    };
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut errors = Vec::new();
    for case in &cases {
        let found: Vec<(String, String)> = detect(&case.text, &ctx)
            .iter()
            .map(|s| {
                (
                    kind_name(s.kind).to_owned(),
                    case.text.get(s.start..s.end).unwrap_or("").to_owned(),
                )
            })
            .collect();
        for f in &found {
            if case.expected.contains(f) {
                tp += 1;
            } else {
                fp += 1;
                errors.push(format!("false positive {}={} in: {}", f.0, f.1, case.text));
            }
        }
        for e in &case.expected {
            if !found.contains(e) {
                fn_ += 1;
                errors.push(format!("missed {}={} in: {}", e.0, e.1, case.text));
            }
        }
    }
    (tp, fp, fn_, errors)
}
