//! Word error rate of the Whisper engine on a speech corpus.
//!
//! Usage: `wer <model-dir> <corpus-dir> [set ...]` (sets default to `wav16 tel16`). The corpus holds
//! `references.tsv` (`id<TAB>text`) and one `<id>.wav` per clip in each set directory. Prints one
//! line per clip (`set, id, word errors, reference words, hypothesis`, tab-separated), then one JSON
//! summary line per set (`{"set":…,"wer":…,"audio_seconds":…}`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use commlog_speech::eval::{edit_distance, normalize};
use commlog_speech::{Transcriber, WhisperEngine, decode, transcribe};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(corpus)) = (args.next(), args.next()) else {
        return Err("usage: wer <model-dir> <corpus-dir> [set ...]".into());
    };
    let (model, corpus) = (PathBuf::from(model), PathBuf::from(corpus));
    let mut sets: Vec<String> = args.collect();
    if sets.is_empty() {
        sets = vec!["wav16".into(), "tel16".into()];
    }
    let started = Instant::now();
    let engine = WhisperEngine::load(&model)?;
    eprintln!(
        "loaded {} in {:.2} s",
        engine.version(),
        started.elapsed().as_secs_f64()
    );
    let references = std::fs::read_to_string(corpus.join("references.tsv"))?;
    for set in &sets {
        let (mut errors, mut words, mut audio_seconds) = (0usize, 0usize, 0.0f64);
        let started = Instant::now();
        for line in references.lines().filter(|l| !l.trim().is_empty()) {
            let Some((id, reference)) = line.split_once('\t') else {
                continue;
            };
            let bytes = std::fs::read(corpus.join(set).join(format!("{id}.wav")))?;
            let audio = decode(&bytes, Some("audio/wav"))?;
            audio_seconds += audio.duration_seconds();
            let hypothesis = transcribe(&engine, &audio)?.text();
            let (r, h) = (normalize(reference), normalize(&hypothesis));
            let e = edit_distance(&r, &h);
            println!("{set}\t{id}\t{e}\t{}\t{hypothesis}", r.len());
            errors += e;
            words += r.len();
        }
        println!(
            "{{\"set\":\"{set}\",\"model\":\"{}\",\"wer\":{:.4},\"errors\":{errors},\"words\":{words},\"audio_seconds\":{audio_seconds:.2},\"wall_seconds\":{:.2}}}",
            engine.version(),
            errors as f64 / words.max(1) as f64,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
