//! Channel separation, silence chunking and absolute times, with a stand-in engine.

use commlog_speech::{Audio, Segment, SpeechError, Transcriber, Transcript, transcribe};

use super::support::sine;

/// Reports one segment per non-silent piece, with the piece's length and loudness.
struct PieceReporter;

impl Transcriber for PieceReporter {
    fn engine(&self) -> &str {
        "test"
    }
    fn version(&self) -> &str {
        "0"
    }
    fn transcribe_mono(&self, samples: &[f32]) -> Result<Transcript, SpeechError> {
        let seconds = samples.len() as f64 / 16_000.0;
        let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        Ok(Transcript {
            segments: vec![Segment {
                start: 0.5,
                end: seconds,
                text: format!("{peak:.1}"),
                channel: None,
            }],
            language: Some("xx".into()),
        })
    }
}

#[test]
fn channels_are_transcribed_separately_with_absolute_times() {
    // Left: 40 s of tone with a pause at 20 s; right: silence, then tone from 10 s.
    let mut left = sine(300.0, 16_000, 20.0, 0.3);
    left.extend(vec![0.0; 16_000]);
    left.extend(sine(300.0, 16_000, 19.0, 0.3));
    let mut right = vec![0.0; 16_000 * 10];
    right.extend(sine(500.0, 16_000, 30.0, 0.6));
    let audio = Audio {
        sample_rate: 16_000,
        channels: vec![left, right],
    };
    let t = transcribe(&PieceReporter, &audio).expect("transcribe");
    assert_eq!(t.language.as_deref(), Some("xx"));
    let left: Vec<&Segment> = t.segments.iter().filter(|s| s.channel == Some(0)).collect();
    let right: Vec<&Segment> = t.segments.iter().filter(|s| s.channel == Some(1)).collect();
    assert_eq!(left.len(), 2, "{t:?}");
    assert!(
        left[0].end > 20.0 && left[0].end < 21.0,
        "cut in the pause: {t:?}"
    );
    assert!(left[1].start > 20.0 && left[1].start < 21.6, "{t:?}");
    assert!(right.iter().all(|s| s.text == "0.6"), "{t:?}");
    assert!(
        t.segments.windows(2).all(|w| w[0].start <= w[1].start),
        "time order"
    );
    assert!(t.segments.iter().all(|s| s.end <= 40.0 + 1e-6));
}
