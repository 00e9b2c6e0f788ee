//! The Whisper engine on the shared speech corpus (needs `COMMLOG_MODELS_DIR`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use commlog_speech::eval::{edit_distance, normalize};
use commlog_speech::{Audio, WhisperEngine, decode, transcribe};

use super::support::{pcm16, wav};

fn tiny_model() -> Option<&'static WhisperEngine> {
    static ENGINE: OnceLock<Option<WhisperEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let Some(dir) = std::env::var_os("COMMLOG_MODELS_DIR") else {
                eprintln!("SKIP: COMMLOG_MODELS_DIR is not set; model tests skipped");
                return None;
            };
            let dir = PathBuf::from(dir).join("whisper-tiny.en");
            if !dir.join("model.bin").is_file() {
                eprintln!("SKIP: no model at {}; model tests skipped", dir.display());
                return None;
            }
            Some(
                WhisperEngine::load(&dir)
                    .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display())),
            )
        })
        .as_ref()
}

fn speech_corpus() -> Option<PathBuf> {
    let root = match std::env::var_os("COMMLOG_CORPORA") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/corpora"))
            .find(|p| p.is_dir()),
    };
    let dir = root
        .map(|r| r.join("speech"))
        .filter(|d| d.join("references.tsv").is_file());
    if dir.is_none() {
        eprintln!("SKIP: speech corpus not found (set COMMLOG_CORPORA)");
    }
    dir
}

fn references(corpus: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(corpus.join("references.tsv"))
        .expect("references.tsv")
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, text)| (id.to_owned(), text.to_owned()))
        .collect()
}

fn load_clip(corpus: &Path, set: &str, id: &str) -> Audio {
    decode(
        &std::fs::read(corpus.join(set).join(format!("{id}.wav"))).expect("clip"),
        None,
    )
    .expect("decode clip")
}

/// WER over the real recordings (the corpus README's reference points) and over all clips,
/// which adds the synthetic (espeak) call-centre sentences.
fn corpus_wer(engine: &WhisperEngine, corpus: &Path, set: &str) -> (f64, f64) {
    let (mut real, mut all) = ((0, 0), (0, 0));
    for (id, reference) in references(corpus) {
        let text = transcribe(engine, &load_clip(corpus, set, &id))
            .expect("transcribe")
            .text();
        let (r, h) = (normalize(&reference), normalize(&text));
        let e = edit_distance(&r, &h);
        eprintln!("{set} {id}: {e}/{} errors: {text}", r.len());
        all = (all.0 + e, all.1 + r.len());
        if !id.starts_with("synth_") {
            real = (real.0 + e, real.1 + r.len());
        }
    }
    (real.0 as f64 / real.1 as f64, all.0 as f64 / all.1 as f64)
}

#[test]
fn whisper_tiny_en_word_error_rate() {
    let (Some(engine), Some(corpus)) = (tiny_model(), speech_corpus()) else {
        return;
    };
    // Measured: wav16 5.4 % real / 5.5 % all; tel16 8.6 % real / 16.5 % all (greedy decoding).
    // The bounds leave room for noise on this small sample but catch any real regression.
    for (set, all_bound) in [("wav16", 0.10), ("tel16", 0.22)] {
        let (real, all) = corpus_wer(engine, &corpus, set);
        eprintln!(
            "{set}: WER {:.1} % on real recordings, {:.1} % on all clips",
            real * 100.0,
            all * 100.0
        );
        assert!(real < 0.15, "{set}: WER on real recordings {real}");
        assert!(all < all_bound, "{set}: WER on all clips {all}");
    }
}

#[test]
fn whisper_labels_stereo_channels() {
    let (Some(engine), Some(corpus)) = (tiny_model(), speech_corpus()) else {
        return;
    };
    let left = load_clip(&corpus, "tel16", "jfk").channels.remove(0);
    let right = load_clip(&corpus, "tel16", "synth_01").channels.remove(0);
    let len = left.len().max(right.len());
    let pad = |mut c: Vec<f32>| {
        c.resize(len, 0.0);
        c
    };
    // Through a real stereo WAV, so decoding keeps the channels apart too.
    let interleaved: Vec<f32> = pad(left)
        .into_iter()
        .zip(pad(right))
        .flat_map(|(l, r)| [l, r])
        .collect();
    let audio = decode(
        &wav(1, 16, 2, 16_000, &pcm16(&interleaved)),
        Some("audio/wav"),
    )
    .expect("stereo");
    let t = transcribe(engine, &audio).expect("transcribe");
    let side = |c: usize| {
        t.segments
            .iter()
            .filter(|s| s.channel == Some(c))
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (l, r) = (normalize(&side(0)).join(" "), normalize(&side(1)).join(" "));
    assert!(
        l.contains("ask not what your country can do for you"),
        "left: {l}"
    );
    assert!(
        r.contains("thank you for calling customer support"),
        "right: {r}"
    );
    assert!(!l.contains("customer") && !r.contains("country"), "{t:?}");
    assert_eq!(t.language.as_deref(), Some("en"));
}

#[test]
fn whisper_long_recording_is_chunked_with_absolute_times() {
    let (Some(engine), Some(corpus)) = (tiny_model(), speech_corpus()) else {
        return;
    };
    // All clips back to back with short pauses: over a minute, so several 30 s windows.
    let (mut samples, mut reference) = (Vec::new(), String::new());
    for (id, text) in references(&corpus) {
        samples.extend(load_clip(&corpus, "wav16", &id).channels.remove(0));
        samples.extend(vec![0.0; 8000]);
        reference.push_str(&text);
        reference.push(' ');
    }
    let seconds = samples.len() as f64 / 16_000.0;
    assert!(seconds > 60.0);
    let t = transcribe(
        engine,
        &Audio {
            sample_rate: 16_000,
            channels: vec![samples],
        },
    )
    .expect("transcribe");
    assert!(
        t.segments
            .iter()
            .all(|s| s.channel.is_none() && s.start <= s.end && s.end <= seconds + 0.01),
        "{t:?}"
    );
    assert!(t.segments.windows(2).all(|w| w[0].start <= w[1].start));
    assert!(
        t.segments.last().is_some_and(|s| s.end > seconds - 15.0),
        "{t:?}"
    );
    let (r, h) = (normalize(&reference), normalize(&t.text()));
    let wer = edit_distance(&r, &h) as f64 / r.len() as f64;
    assert!(wer < 0.15, "WER {wer}: {}", t.text());
}
