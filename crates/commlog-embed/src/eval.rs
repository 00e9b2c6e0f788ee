//! Corpus readers, deterministic train/test splits and the metrics used to
//! train the sentiment head and to measure the crate (by the training
//! example, the benchmark and the tests alike, so they agree by construction).
//!
//! Corpora are the shared test corpora: `sentiment/*_GroundTruth.txt`
//! (`id<TAB>mean rating<TAB>text`, ratings about −4..4) and
//! `categorization/banking77/train.csv` (`text,category`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::EmbedError;

mod metrics;
mod report;

pub use metrics::{SentimentClass, macro_f1, pearson};
pub use report::{FewShotReport, SentimentReport, evaluate_banking77, evaluate_sentiment};

/// Environment variable that may name the corpora folder directly.
pub const CORPORA_ENV: &str = "COMMLOG_CORPORA";

/// Share of each sentiment corpus used for training, in percent.
pub const TRAIN_PERCENT: u64 = 70;

/// The three human-rated sentiment corpora.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SentimentCorpus {
    /// Tweets (4,200 texts).
    Tweets,
    /// Amazon review snippets (3,708 texts).
    Amazon,
    /// Movie review snippets (10,605 texts).
    Movies,
}

impl SentimentCorpus {
    /// All corpora, in reporting order.
    pub const ALL: [Self; 3] = [Self::Tweets, Self::Amazon, Self::Movies];

    /// Short name, also the key hashed into the split.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tweets => "tweets",
            Self::Amazon => "amazon",
            Self::Movies => "movies",
        }
    }

    /// File name inside `sentiment/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Tweets => "tweets_GroundTruth.txt",
            Self::Amazon => "amazonReviewSnippets_GroundTruth.txt",
            Self::Movies => "movieReviewSnippets_GroundTruth.txt",
        }
    }
}

/// One human-rated text.
#[derive(Debug, Clone)]
pub struct RatedText {
    /// The id from the file.
    pub id: String,
    /// Mean human rating divided by 4, so in about [−1, 1].
    pub score: f64,
    /// The text.
    pub text: String,
    /// Whether the text is in the 70 % training part (else held out).
    pub train: bool,
}

/// Finds the shared corpora folder: `$COMMLOG_CORPORA` if set, else the first
/// `shared/corpora` found walking up from `start` (e.g. the crate's manifest
/// directory). `None` if neither exists.
pub fn find_corpora(start: &Path) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CORPORA_ENV) {
        let dir = PathBuf::from(dir);
        return dir.is_dir().then_some(dir);
    }
    start
        .ancestors()
        .map(|a| a.join("shared").join("corpora"))
        .find(|d| d.is_dir())
}

/// Whether `id` of corpus `key` falls in the training part. The split hashes
/// `"{key}:{id}"` with 64-bit FNV-1a and keeps the texts whose hash modulo
/// 100 is below [`TRAIN_PERCENT`]: stable across runs, platforms and file
/// order, and independent of the text.
pub fn in_train_split(key: &str, id: &str) -> bool {
    fnv1a(format!("{key}:{id}").as_bytes()) % 100 < TRAIN_PERCENT
}

/// 64-bit FNV-1a, used for deterministic splits and example choice.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Reads one sentiment corpus from the corpora folder, marking each text's
/// split. Invalid UTF-8 is replaced, CRLF line ends are accepted.
pub fn read_sentiment(
    corpora: &Path,
    corpus: SentimentCorpus,
) -> Result<Vec<RatedText>, EmbedError> {
    let path = corpora.join("sentiment").join(corpus.file_name());
    let bytes = std::fs::read(&path).map_err(|e| EmbedError::io(&path, e))?;
    let mut out = Vec::new();
    for (n, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let (Some(id), Some(rating), Some(text)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(corpus_error(
                &path,
                format!("line {}: expected 3 fields", n + 1),
            ));
        };
        let rating: f64 = rating
            .trim()
            .parse()
            .map_err(|_| corpus_error(&path, format!("line {}: bad rating", n + 1)))?;
        out.push(RatedText {
            id: id.to_owned(),
            score: rating / 4.0,
            text: text.to_owned(),
            train: in_train_split(corpus.name(), id),
        });
    }
    Ok(out)
}

/// banking77 divided for few-shot evaluation.
#[derive(Debug, Clone, Default)]
pub struct FewShotSplit {
    /// `(intent, text)` chosen as examples: `per_intent` per intent.
    pub examples: Vec<(String, String)>,
    /// Every other `(intent, text)`, to classify.
    pub test: Vec<(String, String)>,
}

/// Reads `categorization/banking77/train.csv` (the only split shipped) and
/// picks `per_intent` examples per intent: those whose text has the smallest
/// FNV-1a hash, so the choice is deterministic and unrelated to file order.
/// All remaining queries form the test set.
pub fn banking77_few_shot(corpora: &Path, per_intent: usize) -> Result<FewShotSplit, EmbedError> {
    let path = corpora
        .join("categorization")
        .join("banking77")
        .join("train.csv");
    let bytes = std::fs::read(&path).map_err(|e| EmbedError::io(&path, e))?;
    let records = read_csv(&bytes).map_err(|reason| corpus_error(&path, reason))?;
    let mut by_intent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, record) in records.into_iter().enumerate() {
        let [query, intent]: [String; 2] = record.try_into().map_err(|_| {
            corpus_error(&path, format!("record {}: expected text,category", n + 2))
        })?;
        // Queries may span lines inside quotes; the model sees plain spaces.
        let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
        by_intent
            .entry(intent.trim().to_owned())
            .or_default()
            .push(query);
    }
    let mut split = FewShotSplit::default();
    for (intent, mut queries) in by_intent {
        queries.sort_by_key(|q| (fnv1a(q.as_bytes()), q.clone()));
        for (i, q) in queries.into_iter().enumerate() {
            let part = if i < per_intent {
                &mut split.examples
            } else {
                &mut split.test
            };
            part.push((intent.clone(), q));
        }
    }
    Ok(split)
}

/// The records of a CSV file after its header (quoted fields may hold commas, line breaks
/// and doubled quotes).
fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn corpus_error(path: &Path, reason: String) -> EmbedError {
    EmbedError::Corpus {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_multiline_csv() {
        let text = b"text,category\r\na b,card\r\n\"x, \"\"y\"\"\nz\",card_arrival\r\n\r\n";
        let records = read_csv(text).expect("valid CSV");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0], ["a b", "card"]);
        assert_eq!(records[1], ["x, \"y\"\nz", "card_arrival"]);
    }

    #[test]
    fn split_is_stable_and_near_seventy_percent() {
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let train = (0..10_000)
            .filter(|i| in_train_split("t", &i.to_string()))
            .count();
        assert!((6_700..7_300).contains(&train), "{train}");
    }
}
