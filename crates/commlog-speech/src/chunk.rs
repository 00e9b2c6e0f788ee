//! Cutting long recordings at silences.
//!
//! Whisper-style engines see at most 30 s at a time. Cutting blindly every 30 s splits words and
//! loses them; instead each cut is placed at the quietest stretch (by short-time energy) in the
//! latter half of the allowed window, which on conversational speech is a pause between phrases.

/// The longest piece handed to an engine, in seconds.
pub const MAX_CHUNK_SECONDS: f64 = 30.0;
/// Energy analysis frame, in seconds.
const FRAME_SECONDS: f64 = 0.02;
/// Energy is averaged over this many frames around a candidate cut, so the cut lands in a pause
/// rather than in a single quiet frame inside a word.
const SMOOTH_FRAMES: usize = 15;
/// Pieces whose loudest frame stays below this level (dBFS) hold no speech and are skipped.
const SILENCE_DBFS: f64 = -55.0;

/// A piece of a recording, as sample indices `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
}

/// Splits `samples` into pieces of at most `max_seconds`, cut in the quietest places, dropping
/// pieces that are silent throughout. Together the pieces cover all non-silent audio.
pub fn split_at_silences(samples: &[f32], sample_rate: u32, max_seconds: f64) -> Vec<Chunk> {
    let frame = ((f64::from(sample_rate) * FRAME_SECONDS) as usize).max(1);
    let max_len = ((f64::from(sample_rate) * max_seconds) as usize).max(frame * 2);
    let energy = frame_energies(samples, frame);
    let smoothed = smooth(&energy, SMOOTH_FRAMES);
    let mut chunks = Vec::new();
    let mut start = 0usize;
    while start < samples.len() {
        let end = if samples.len() - start <= max_len {
            samples.len()
        } else {
            // Search the second half of the window for the quietest frame; later wins on ties so
            // pieces stay long (fewer pieces, more context for the engine).
            let first = (start + max_len / 2) / frame;
            let last = (start + max_len) / frame;
            let mut best = last;
            let mut best_energy = f64::INFINITY;
            for (i, e) in smoothed.iter().enumerate().take(last).skip(first) {
                if *e <= best_energy {
                    best_energy = *e;
                    best = i;
                }
            }
            // Cut in the middle of the chosen frame, never beyond the window.
            (best * frame + frame / 2).clamp(start + 1, start + max_len)
        };
        let loud = energy
            .get(start / frame..end.div_ceil(frame).min(energy.len()))
            .and_then(|e| e.iter().copied().reduce(f64::max))
            .unwrap_or(0.0);
        if to_dbfs(loud) > SILENCE_DBFS {
            chunks.push(Chunk { start, end });
        }
        start = end;
    }
    chunks
}

/// Mean square per frame.
fn frame_energies(samples: &[f32], frame: usize) -> Vec<f64> {
    samples
        .chunks(frame)
        .map(|c| c.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / c.len() as f64)
        .collect()
}

/// Centred moving average.
fn smooth(values: &[f64], width: usize) -> Vec<f64> {
    let half = width / 2;
    (0..values.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(values.len());
            let window = values.get(lo..hi).unwrap_or_default();
            window.iter().sum::<f64>() / window.len().max(1) as f64
        })
        .collect()
}

fn to_dbfs(mean_square: f64) -> f64 {
    10.0 * mean_square.max(1e-20).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_audio_is_one_chunk() {
        let samples = vec![0.1f32; 16_000 * 10];
        assert_eq!(
            split_at_silences(&samples, 16_000, 30.0),
            vec![Chunk {
                start: 0,
                end: 160_000
            }]
        );
    }

    #[test]
    fn cuts_in_the_pause() {
        // 20 s noise-like "speech", 1 s pause, 20 s more: the cut must land inside the pause.
        let rate = 16_000usize;
        let mut samples: Vec<f32> = (0..rate * 20)
            .map(|i| ((i * 7919) % 200) as f32 / 1000.0)
            .collect();
        let pause_start = samples.len();
        samples.extend(std::iter::repeat_n(0.0, rate));
        let pause_end = samples.len();
        samples.extend((0..rate * 20).map(|i| ((i * 104_729) % 200) as f32 / 1000.0));
        let chunks = split_at_silences(&samples, 16_000, 30.0);
        assert_eq!(chunks.len(), 2, "{chunks:?}");
        assert!(
            chunks[0].end > pause_start && chunks[0].end < pause_end,
            "{chunks:?}"
        );
        assert_eq!(chunks[1].end, samples.len());
        assert!(chunks.iter().all(|c| c.end - c.start <= rate * 30));
    }

    #[test]
    fn silent_audio_yields_nothing() {
        assert!(split_at_silences(&vec![0.0; 16_000 * 40], 16_000, 30.0).is_empty());
    }
}
