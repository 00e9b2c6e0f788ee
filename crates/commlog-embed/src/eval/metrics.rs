//! Pearson correlation and 3-class macro-F1 for sentiment scores.

/// Three sentiment classes over scores in [−1, 1].
///
/// The thresholds are ±0.125, i.e. ±0.5 on the corpora's −4..4 rating scale
/// (the convention of the corpora's README), applied identically to the
/// human mean and to the engine's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentimentClass {
    /// Score ≤ −0.125.
    Negative,
    /// Strictly between the thresholds.
    Neutral,
    /// Score ≥ +0.125.
    Positive,
}

impl SentimentClass {
    /// Class boundary on the [−1, 1] scale.
    pub const THRESHOLD: f64 = 0.125;

    /// The class of a score.
    pub fn of(score: f64) -> Self {
        if score >= Self::THRESHOLD {
            Self::Positive
        } else if score <= -Self::THRESHOLD {
            Self::Negative
        } else {
            Self::Neutral
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Negative => 0,
            Self::Neutral => 1,
            Self::Positive => 2,
        }
    }
}

/// Pearson correlation of two equally long series; `None` when they are
/// shorter than 2, of different lengths, or either is constant.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// Macro-averaged F1 over the three [`SentimentClass`]es of `truth` and
/// `predicted` scores (a class absent from both counts as F1 = 0, as in the
/// usual definition over a fixed label set).
pub fn macro_f1(truth: &[f64], predicted: &[f64]) -> f64 {
    let mut confusion = [[0usize; 3]; 3];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[SentimentClass::of(t).index()][SentimentClass::of(p).index()] += 1;
    }
    let mut total = 0.0;
    for (c, row) in confusion.iter().enumerate() {
        let tp = row[c];
        let predicted_c: usize = confusion.iter().map(|r| r[c]).sum();
        let actual_c: usize = row.iter().sum();
        if predicted_c + actual_c > 0 {
            let f1 = 2.0 * tp as f64 / (predicted_c + actual_c) as f64;
            total += f1;
        }
    }
    total / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_linear_relation_is_one() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [0.1, 0.3, 0.5, 0.7];
        assert!((pearson(&a, &b).unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert_eq!(pearson(&a, &[1.0; 4]), None);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

    #[test]
    fn macro_f1_perfect_and_partial() {
        let t = [-0.5, 0.0, 0.5];
        assert!((macro_f1(&t, &t) - 1.0).abs() < 1e-12);
        // Everything predicted neutral: only the neutral class scores (F1 = 0.5).
        assert!((macro_f1(&t, &[0.0; 3]) - 0.5 / 3.0).abs() < 1e-12);
    }
}
