//! Greedy decoding with Whisper's timestamp rules, and turning tokens into segments.

use ndarray::{Array1, Axis, Slice};

use super::model::{Decoder, DecoderState};
use super::tokens::{Specials, Vocabulary};
use crate::error::SpeechError;
use crate::transcript::Segment;

/// Seconds per timestamp token step.
pub(crate) const TIME_PRECISION: f64 = 0.02;
/// The first timestamp may be at most this many steps in (Whisper's `max_initial_timestamp` 1 s).
const MAX_INITIAL_TIMESTAMP: u32 = 50;
/// A run of text tokens repeated this often in a row is a decoding loop, not speech.
const MAX_REPEATS: usize = 4;

/// Token filters from the model's configuration.
pub(crate) struct Rules {
    pub suppress: Vec<u32>,
    pub suppress_begin: Vec<u32>,
    pub max_tokens: usize,
}

/// What one decoding pass produced.
pub(crate) struct Decoded {
    /// Sampled tokens, without the prompt and without the final end-of-text.
    pub tokens: Vec<u32>,
    pub avg_logprob: f32,
}

/// Greedily extends the prompt already fed into `state`, starting from `logits` (the model's
/// prediction after the prompt).
pub(crate) fn greedy(
    decoder: &Decoder,
    state: &mut DecoderState,
    mut logits: Array1<f32>,
    sp: &Specials,
    rules: &Rules,
) -> Result<Decoded, SpeechError> {
    let mut tokens: Vec<u32> = Vec::new();
    let mut sum_logprob = 0.0f32;
    loop {
        apply_rules(&mut logits, &tokens, sp, rules);
        let logprobs = log_softmax(&logits);
        let (best, best_logprob) = logprobs.iter().enumerate().fold(
            (sp.eot as usize, f32::NEG_INFINITY),
            |acc, (i, &v)| {
                if v > acc.1 { (i, v) } else { acc }
            },
        );
        let token = best as u32;
        if token == sp.eot {
            break;
        }
        sum_logprob += best_logprob;
        tokens.push(token);
        if tokens.len() >= rules.max_tokens || cut_repetition(&mut tokens, sp.timestamp_begin) {
            break;
        }
        let hidden = decoder.forward(state, &[token])?;
        let Some(last) = hidden.rows().into_iter().next_back() else {
            break;
        };
        logits = decoder.logits(last);
    }
    let avg_logprob = sum_logprob / (tokens.len() + 1) as f32;
    Ok(Decoded {
        tokens,
        avg_logprob,
    })
}

/// Whisper's `SuppressTokens`, `SuppressBlank` and `ApplyTimestampRules` logit filters.
fn apply_rules(logits: &mut Array1<f32>, sampled: &[u32], sp: &Specials, rules: &Rules) {
    let n = logits.len();
    let ts = (sp.timestamp_begin as usize).min(n);
    let eot = (sp.eot as usize).min(n);
    let block = |range: std::ops::Range<usize>, logits: &mut Array1<f32>| {
        let (lo, hi) = (range.start.min(n), range.end.min(n));
        if lo < hi {
            logits
                .slice_axis_mut(Axis(0), Slice::from(lo..hi))
                .fill(f32::NEG_INFINITY);
        }
    };
    let block_one = |t: u32, logits: &mut Array1<f32>| {
        if let Some(v) = logits.get_mut(t as usize) {
            *v = f32::NEG_INFINITY;
        }
    };
    for &t in &rules.suppress {
        block_one(t, logits);
    }
    if sampled.is_empty() {
        for &t in &rules.suppress_begin {
            block_one(t, logits);
        }
    }
    block_one(sp.no_timestamps, logits);

    let is_ts = |t: &u32| *t >= sp.timestamp_begin;
    let last_ts = sampled.last().is_some_and(is_ts);
    let penultimate_ts = sampled.len() < 2 || sampled.get(sampled.len() - 2).is_some_and(is_ts);
    if last_ts {
        if penultimate_ts {
            block(ts..n, logits); // a pair just closed: text (or end) must follow
        } else {
            block(0..eot, logits); // a segment just ended: its partner timestamp (or end)
        }
    }
    if let Some(&last) = sampled.iter().rev().find(|t| is_ts(t)) {
        // Timestamps never go backwards, and segments have non-zero length.
        let bound = if last_ts && !penultimate_ts {
            last
        } else {
            last + 1
        };
        block(ts..bound as usize, logits);
    }
    if sampled.is_empty() {
        block(0..ts, logits);
        block(ts + MAX_INITIAL_TIMESTAMP as usize + 1..n, logits);
    }
    // If timestamps together are likelier than any single text token, take a timestamp.
    let logprobs = log_softmax(logits);
    let ts_mass = log_sum_exp(
        logprobs
            .slice_axis(Axis(0), Slice::from(ts..))
            .iter()
            .copied(),
    );
    let text_max = logprobs
        .slice_axis(Axis(0), Slice::from(..ts))
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    if ts_mass > text_max {
        block(0..ts, logits);
    }
}

/// Stops a decoding loop: if the text tokens end in the same run repeated `MAX_REPEATS` times,
/// the repeats after the first are dropped and `true` is returned.
fn cut_repetition(tokens: &mut Vec<u32>, timestamp_begin: u32) -> bool {
    let text: Vec<(usize, u32)> = tokens
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, t)| *t < timestamp_begin)
        .collect();
    for period in 1..=text.len() / MAX_REPEATS {
        let tail = &text[text.len() - period * MAX_REPEATS..];
        let unit: Vec<u32> = tail[..period].iter().map(|(_, t)| *t).collect();
        let repeated = tail
            .chunks(period)
            .all(|c| c.iter().map(|(_, t)| *t).eq(unit.iter().copied()));
        // A single token repeated a few times can be genuine ("no no no no"): require more.
        if repeated
            && (period > 1 || text.len() >= 2 * MAX_REPEATS && tail_repeats(&text, 2 * MAX_REPEATS))
        {
            let keep = tail.get(period).map_or(tokens.len(), |(i, _)| *i);
            tokens.truncate(keep);
            return true;
        }
    }
    false
}

fn tail_repeats(text: &[(usize, u32)], count: usize) -> bool {
    let tail = &text[text.len() - count..];
    tail.iter()
        .all(|(_, t)| Some(t) == tail.first().map(|(_, f)| f))
}

/// Splits sampled tokens into timed segments (times relative to the window, clamped to it).
pub(crate) fn segments(tokens: &[u32], vocab: &Vocabulary, duration: f64) -> Vec<Segment> {
    let ts_begin = vocab.specials.timestamp_begin;
    let time = |t: u32| (f64::from(t - ts_begin) * TIME_PRECISION).min(duration);
    let mut out = Vec::new();
    let mut start: Option<f64> = None;
    let mut last_time = 0.0;
    let mut text: Vec<u32> = Vec::new();
    let push = |start: f64, end: f64, text: &[u32], out: &mut Vec<Segment>| {
        let decoded = vocab.decode(text);
        let trimmed = decoded.trim();
        if !trimmed.is_empty() {
            out.push(Segment {
                start,
                end: end.max(start),
                text: trimmed.to_owned(),
                channel: None,
            });
        }
    };
    for &t in tokens {
        if t >= ts_begin {
            let now = time(t);
            if text.is_empty() {
                start = Some(now);
            } else {
                push(start.unwrap_or(last_time), now, &text, &mut out);
                text.clear();
                start = None;
            }
            last_time = now;
        } else if t < vocab.specials.eot {
            text.push(t);
        }
    }
    if !text.is_empty() {
        push(start.unwrap_or(last_time), duration, &text, &mut out);
    }
    out
}

pub(crate) fn log_softmax(logits: &Array1<f32>) -> Array1<f32> {
    let lse = log_sum_exp(logits.iter().copied());
    logits.mapv(|v| v - lse)
}

fn log_sum_exp(values: impl Iterator<Item = f32> + Clone) -> f32 {
    let max = values.clone().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f32>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_is_cut_to_one_copy() {
        let ts = 1000;
        let mut tokens = vec![ts, 5, 6, 7, 5, 6, 7, 5, 6, 7, 5, 6, 7];
        assert!(cut_repetition(&mut tokens, ts));
        assert_eq!(tokens, vec![ts, 5, 6, 7]);
        let mut fine = vec![ts, 1, 2, 3, 4, 5];
        assert!(!cut_repetition(&mut fine, ts));
    }
}
