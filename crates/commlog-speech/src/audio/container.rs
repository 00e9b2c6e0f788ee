//! Probed formats (WAV, MP3, FLAC, Ogg/Vorbis) through `symphonia`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{Audio, Limits, MAX_CHANNELS, deinterleave};
use crate::error::SpeechError;

/// Decodes any container/codec symphonia was built with.
///
/// Decoders for hostile input are the classic place for panics (arithmetic on header fields), so
/// the whole run is isolated: a panic becomes a [`SpeechError::CorruptAudio`] instead of taking
/// down the calling thread.
pub(crate) fn decode(
    bytes: &[u8],
    mime: Option<&str>,
    limits: &Limits,
) -> Result<Audio, SpeechError> {
    match catch_unwind(AssertUnwindSafe(|| decode_inner(bytes, mime, limits))) {
        Ok(result) => result,
        Err(_) => Err(SpeechError::CorruptAudio(
            "the decoder rejected the stream".into(),
        )),
    }
}

fn decode_inner(bytes: &[u8], mime: Option<&str>, limits: &Limits) -> Result<Audio, SpeechError> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    if let Some(mime) = mime {
        hint.mime_type(mime);
        if let Some(ext) = extension_for(mime) {
            hint.with_extension(ext);
        }
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| SpeechError::UnsupportedFormat(e.to_string()))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| SpeechError::UnsupportedFormat("no audio track".into()))?;
    let track_id = track.id;
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| SpeechError::UnsupportedFormat(e.to_string()))?;

    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            // End of stream, or a truncated file: keep what was decoded so far.
            Err(SymError::IoError(_)) | Err(SymError::ResetRequired) => break,
            Err(SymError::DecodeError(e)) if channels.is_empty() => {
                return Err(SpeechError::CorruptAudio(e.to_string()));
            }
            Err(SymError::DecodeError(_)) => break,
            Err(e) => return Err(SpeechError::CorruptAudio(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame in the middle of a lossy stream: skip it like players do.
            Err(SymError::DecodeError(_)) => continue,
            Err(SymError::IoError(_)) => break,
            Err(e) => return Err(SpeechError::CorruptAudio(e.to_string())),
        };
        let spec = *decoded.spec();
        let count = spec.channels.count();
        if count == 0 || count > MAX_CHANNELS {
            return Err(SpeechError::UnsupportedFormat(format!("{count} channels")));
        }
        if channels.is_empty() {
            channels = vec![Vec::new(); count];
            sample_rate = spec.rate;
        } else if channels.len() != count || spec.rate != sample_rate {
            return Err(SpeechError::CorruptAudio(
                "channel layout or rate changes mid-stream".into(),
            ));
        }
        let needed = decoded.capacity() as u64;
        let buf = match &mut buffer {
            Some(b) if b.capacity() as u64 >= needed => b,
            _ => buffer.insert(SampleBuffer::new(needed, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        deinterleave(buf.samples(), count, &mut channels);
        // Checked while decoding so an over-long stream is refused before it fills memory.
        limits.check_frames(channels.first().map_or(0, Vec::len), sample_rate)?;
    }
    if channels.first().is_none_or(Vec::is_empty) {
        return Err(SpeechError::EmptyAudio);
    }
    Ok(Audio {
        sample_rate,
        channels,
    })
}

/// File extension symphonia's probe associates with a content type.
fn extension_for(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "audio/wav" | "audio/wave" | "audio/x-wav" | "audio/vnd.wave" => "wav",
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => "mp3",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/ogg" | "audio/vorbis" | "application/ogg" => "ogg",
        _ => return None,
    })
}
