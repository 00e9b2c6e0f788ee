//! G.711 µ-law and A-law, headerless (`.ul`, `.al`) or in a Sun AU (`.snd`) container.
//!
//! Telephony systems (Asterisk, many SIP recorders) store calls as raw 8 kHz G.711 without any
//! header, so these cannot be probed and are recognised from the content type instead.

use super::{Audio, deinterleave};
use crate::error::SpeechError;

/// Which G.711 companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Law {
    Mu,
    A,
}

impl Law {
    /// Recognises content types used for headerless G.711.
    pub(crate) fn from_mime(mime: &str) -> Option<Law> {
        match mime {
            "audio/basic" | "audio/pcmu" | "audio/x-mulaw" | "audio/mulaw" | "audio/x-ulaw"
            | "audio/ulaw" | "audio/g711-mulaw" => Some(Law::Mu),
            "audio/pcma" | "audio/x-alaw" | "audio/alaw" | "audio/g711-alaw" => Some(Law::A),
            _ => None,
        }
    }

    fn expand(self, byte: u8) -> f32 {
        let linear = match self {
            Law::Mu => mulaw_to_linear(byte),
            Law::A => alaw_to_linear(byte),
        };
        f32::from(linear) / 32768.0
    }
}

/// Expands one G.711 µ-law byte to a 16-bit linear sample (ITU-T G.711).
pub fn mulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let value = if u & 0x80 != 0 { -magnitude } else { magnitude };
    // |value| <= 32124, so this never saturates.
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// Expands one G.711 A-law byte to a 16-bit linear sample (ITU-T G.711).
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i32::from(a & 0x0f);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    let value = if a & 0x80 != 0 { magnitude } else { -magnitude };
    value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// Headerless G.711 is 8 kHz mono by convention.
pub(crate) fn decode_raw(bytes: &[u8], law: Law) -> Audio {
    Audio {
        sample_rate: 8000,
        channels: vec![bytes.iter().map(|&b| law.expand(b)).collect()],
    }
}

/// G.711 inside RIFF/WAVE (format tags 6 and 7), as Twilio and telephony recorders write it.
///
/// Decoded here rather than by symphonia because writers differ in the `fmt ` chunk length
/// (16 or 18 bytes) and symphonia only accepts 18. Returns `None` for any other WAV, which then
/// goes to the general decoder.
pub(crate) fn decode_wav(bytes: &[u8]) -> Option<Audio> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let le16 = |b: &[u8], at: usize| b.get(at..at + 2).map(|v| u16::from_le_bytes([v[0], v[1]]));
    let le32 = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
    };
    let mut format: Option<(Law, usize, u32)> = None;
    let mut pos = 12usize;
    while let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), le32(bytes, pos + 4)) {
        let body = pos + 8;
        let size = size as usize;
        if id == b"fmt " {
            let law = match le16(bytes, body)? {
                7 => Law::Mu,
                6 => Law::A,
                _ => return None,
            };
            let channels = usize::from(le16(bytes, body + 2)?);
            let rate = le32(bytes, body + 4)?;
            if channels == 0 || channels > super::MAX_CHANNELS || rate == 0 {
                return None;
            }
            format = Some((law, channels, rate));
        } else if id == b"data" {
            let (law, channels, rate) = format?;
            // A truncated recording (or a streaming writer's bogus size) keeps what is there.
            let end = body.saturating_add(size).min(bytes.len());
            let data = bytes.get(body..end)?;
            let interleaved: Vec<f32> = data.iter().map(|&b| law.expand(b)).collect();
            let mut out = vec![Vec::with_capacity(interleaved.len() / channels); channels];
            deinterleave(&interleaved, channels, &mut out);
            return Some(Audio {
                sample_rate: rate,
                channels: out,
            });
        }
        // Chunks are padded to even sizes.
        pos = body.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

/// Sun AU: big-endian header `.snd`, data offset, data size, encoding, rate, channels.
pub(crate) fn decode_au(bytes: &[u8]) -> Result<Audio, SpeechError> {
    let field = |index: usize| -> Result<u32, SpeechError> {
        let start = index * 4;
        bytes
            .get(start..start + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| SpeechError::CorruptAudio("truncated AU header".into()))
    };
    let offset = field(1)? as usize;
    let size = field(2)? as usize;
    let encoding = field(3)?;
    let sample_rate = field(4)?;
    let channels = field(5)? as usize;
    if channels == 0 || channels > super::MAX_CHANNELS || !(1000..=384_000).contains(&sample_rate) {
        return Err(SpeechError::CorruptAudio("implausible AU header".into()));
    }
    let data = bytes
        .get(offset..)
        .ok_or_else(|| SpeechError::CorruptAudio("AU data offset beyond the end".into()))?;
    // 0xffffffff means "unknown size"; a short file is a truncated recording, still usable.
    let data = &data[..data.len().min(size)];
    let interleaved: Vec<f32> = match encoding {
        1 => data.iter().map(|&b| Law::Mu.expand(b)).collect(),
        27 => data.iter().map(|&b| Law::A.expand(b)).collect(),
        2 => data.iter().map(|&b| f32::from(b as i8) / 128.0).collect(),
        3 => data
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_be_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
        other => {
            return Err(SpeechError::UnsupportedFormat(format!(
                "AU encoding {other}"
            )));
        }
    };
    let mut out = vec![Vec::with_capacity(interleaved.len() / channels); channels];
    deinterleave(&interleaved, channels, &mut out);
    Ok(Audio {
        sample_rate,
        channels: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_reference_values() {
        // Values from the ITU-T G.711 tables.
        assert_eq!(mulaw_to_linear(0xff), 0);
        assert_eq!(mulaw_to_linear(0x7f), 0);
        assert_eq!(mulaw_to_linear(0x00), -32124);
        assert_eq!(mulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
    }
}
