//! Categories by keyword rules, and rules learnt from examples people corrected.
//!
//! Matching is on whole words, case-insensitive, with light stemming (so "refunds" matches
//! "refund"); a keyword of several words matches only as a consecutive phrase.

use crate::stopwords::is_stopword;
use crate::text::{find_phrase, stem, stem_phrase, stemmed_words, words};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// A category and the keywords that point to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordRule<Id> {
    /// The category.
    pub id: Id,
    /// Words or phrases; any one of them is evidence for the category.
    pub keywords: Vec<String>,
}

/// The best-matching category of `text` and a confidence in `[0, 1]`, or `None` when no
/// keyword matches. For many texts against the same rules, build a [`KeywordMatcher`] once.
pub fn by_keywords<Id: Clone>(text: &str, rules: &[KeywordRule<Id>]) -> Option<(Id, f64)> {
    KeywordMatcher::new(rules).classify(text)
}

/// Keyword rules prepared for matching: keywords stemmed and weighted once.
#[derive(Debug, Clone)]
pub struct KeywordMatcher<Id> {
    ids: Vec<Id>,
    /// Per rule: each distinct stemmed keyword with its weight.
    keywords: Vec<Vec<(Vec<String>, f64)>>,
}

impl<Id: Clone> KeywordMatcher<Id> {
    /// Prepares `rules`. Each keyword weighs its word count (a phrase is stronger evidence
    /// than a word) divided by the number of rules that share it.
    pub fn new(rules: &[KeywordRule<Id>]) -> Self {
        let stemmed: Vec<Vec<Vec<String>>> = rules
            .iter()
            .map(|r| {
                let mut ks: Vec<Vec<String>> = r
                    .keywords
                    .iter()
                    .map(|k| stem_phrase(k))
                    .filter(|p| !p.is_empty())
                    .collect();
                ks.sort();
                ks.dedup();
                ks
            })
            .collect();
        let mut sharing: HashMap<&[String], usize> = HashMap::new();
        for rule in &stemmed {
            for k in rule {
                *sharing.entry(k.as_slice()).or_default() += 1;
            }
        }
        let keywords = stemmed
            .iter()
            .map(|rule| {
                rule.iter()
                    .map(|k| {
                        (
                            k.clone(),
                            k.len() as f64 / sharing.get(k.as_slice()).copied().unwrap_or(1) as f64,
                        )
                    })
                    .collect()
            })
            .collect();
        Self {
            ids: rules.iter().map(|r| r.id.clone()).collect(),
            keywords,
        }
    }

    /// The best-matching category and a confidence in `[0, 1]`: the strength of the
    /// evidence, `1 − e^(−best)`, times the margin to the runner-up, `(best − second) / best`.
    /// A tie gives 0 (the earlier rule is returned); no match gives `None`.
    pub fn classify(&self, text: &str) -> Option<(Id, f64)> {
        let tokens = stemmed_words(text);
        let present: HashSet<&str> = tokens.iter().map(|(t, _)| t.as_str()).collect();
        let mut best: Option<(usize, f64)> = None;
        let mut second = 0.0;
        for (i, rule) in self.keywords.iter().enumerate() {
            let score: f64 = rule
                .iter()
                // The set check is a cheap pre-filter before the positional phrase match.
                .filter(|(k, _)| {
                    k.iter().all(|w| present.contains(w.as_str()))
                        && !find_phrase(&tokens, k).is_empty()
                })
                .map(|(_, w)| w)
                .sum();
            match best {
                Some((_, b)) if score <= b => second = f64::max(second, score),
                _ => {
                    if let Some((_, b)) = best {
                        second = b;
                    }
                    best = Some((i, score));
                }
            }
        }
        let (index, top) = best.filter(|&(_, s)| s > 0.0)?;
        let confidence = (1.0 - (-top).exp()) * ((top - second) / top);
        Some((self.ids.get(index)?.clone(), confidence.clamp(0.0, 1.0)))
    }
}

/// Prior strength of the log-odds estimate (informative Dirichlet prior, Monroe et al.
/// 2008): larger values trust small counts less.
const PRIOR_STRENGTH: f64 = 20.0;
/// A learnt keyword must occur in at least this many examples of its category, so that a
/// single odd example does not define a category.
const MIN_SUPPORT: usize = 2;
/// Minimum z-score of the log-odds ratio for a term to count as discriminative.
const MIN_Z: f64 = 1.0;

/// Learns up to `max_per_category` keywords per category from labelled examples (for
/// instance categories people corrected by hand): the words and two-word phrases whose
/// log-odds of appearing in the category's examples, against all other examples, is highest.
/// Rules come out in order of each category's first example.
pub fn learn_keywords<Id: Clone + Eq + Hash>(
    examples: &[(Id, &str)],
    max_per_category: usize,
) -> Vec<KeywordRule<Id>> {
    let mut order: Vec<Id> = Vec::new();
    let mut df: HashMap<Id, HashMap<String, usize>> = HashMap::new();
    let mut surface: HashMap<String, String> = HashMap::new();
    let mut total_df: HashMap<String, usize> = HashMap::new();
    let mut docs: HashMap<Id, usize> = HashMap::new();
    for (id, text) in examples {
        if !order.contains(id) {
            order.push(id.clone());
        }
        *docs.entry(id.clone()).or_default() += 1;
        let class = df.entry(id.clone()).or_default();
        for (term, written) in terms(text) {
            *class.entry(term.clone()).or_default() += 1;
            surface.entry(term.clone()).or_insert(written);
            *total_df.entry(term).or_default() += 1;
        }
    }
    let n_docs = examples.len().max(1) as f64;
    order
        .into_iter()
        .map(|id| {
            let empty = HashMap::new();
            let class = df.get(&id).unwrap_or(&empty);
            let n_c = docs.get(&id).copied().unwrap_or(0) as f64;
            let n_o = (n_docs - n_c).max(1.0);
            let mut ranked: Vec<(f64, &String)> = class
                .iter()
                .filter(|&(_, &count)| count >= MIN_SUPPORT)
                .map(|(term, &y_c)| {
                    let y_all = total_df.get(term).copied().unwrap_or(y_c) as f64;
                    let y_c = y_c as f64;
                    let y_o = y_all - y_c;
                    let alpha = PRIOR_STRENGTH * y_all / n_docs;
                    let odds = |y: f64, n: f64| {
                        ((y + alpha) / (n + PRIOR_STRENGTH - y - alpha).max(f64::EPSILON)).ln()
                    };
                    let delta = odds(y_c, n_c) - odds(y_o, n_o);
                    let variance = 1.0 / (y_c + alpha) + 1.0 / (y_o + alpha);
                    (delta / variance.sqrt(), term)
                })
                .filter(|(z, _)| *z >= MIN_Z)
                .collect();
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            let keywords = ranked
                .into_iter()
                .take(max_per_category)
                .map(|(_, t)| surface.get(t).cloned().unwrap_or_else(|| t.clone()))
                .collect();
            KeywordRule { id, keywords }
        })
        .collect()
}

/// Adds learnt keywords to the rules with the same id (new ids are appended), without
/// duplicates, so hand-written rules and corrections combine.
pub fn merge<Id: Clone + PartialEq>(
    rules: &[KeywordRule<Id>],
    learnt: &[KeywordRule<Id>],
) -> Vec<KeywordRule<Id>> {
    let mut out = rules.to_vec();
    for l in learnt {
        let target = match out.iter().position(|r| r.id == l.id) {
            Some(i) => i,
            None => {
                out.push(KeywordRule {
                    id: l.id.clone(),
                    keywords: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let Some(rule) = out.get_mut(target) {
            for k in &l.keywords {
                if !rule
                    .keywords
                    .iter()
                    .any(|e| stem_phrase(e) == stem_phrase(k))
                {
                    rule.keywords.push(k.clone());
                }
            }
        }
    }
    out
}

/// The distinct terms of an example, keyed by stemmed form with the lower-cased words as
/// written: words that are neither stopwords nor numbers, and two-word phrases that are not
/// both stopwords.
fn terms(text: &str) -> HashMap<String, String> {
    let tokens: Vec<(String, String, bool)> = words(text)
        .into_iter()
        .map(|w| {
            let content = !is_stopword(w.text) && !w.text.chars().all(|c| c.is_ascii_digit());
            (stem(w.text), w.text.to_lowercase(), content)
        })
        .collect();
    let mut out: HashMap<String, String> = HashMap::new();
    for (key, surface, content) in &tokens {
        if *content {
            out.entry(key.clone()).or_insert_with(|| surface.clone());
        }
    }
    for pair in tokens.windows(2) {
        if let [a, b] = pair
            && (a.2 || b.2)
            && !a.1.chars().any(|c| c.is_ascii_digit())
            && !b.1.chars().any(|c| c.is_ascii_digit())
        {
            out.entry(format!("{} {}", a.0, b.0))
                .or_insert_with(|| format!("{} {}", a.1, b.1));
        }
    }
    out
}
