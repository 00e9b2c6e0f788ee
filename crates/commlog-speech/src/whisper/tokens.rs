//! Whisper's vocabulary: special token ids and byte-level BPE decoding.
//!
//! `vocabulary.txt` lists one token per line in id order, written in GPT-2's byte-to-printable
//! character mapping; decoding maps each character back to its byte and the bytes of a run of
//! tokens are read as UTF-8 (a character may span tokens, so this is done per run, not per token).

use std::collections::HashMap;

use crate::error::SpeechError;

/// Ids of the control tokens the decoder needs.
#[derive(Debug, Clone)]
pub(crate) struct Specials {
    pub eot: u32,
    pub sot: u32,
    pub transcribe: Option<u32>,
    pub no_speech: Option<u32>,
    pub no_timestamps: u32,
    pub timestamp_begin: u32,
    /// Language tokens and their codes (multilingual models only).
    pub languages: Vec<(u32, String)>,
}

/// Token strings decoded to bytes, plus the special ids.
pub(crate) struct Vocabulary {
    bytes: Vec<Vec<u8>>,
    pub specials: Specials,
}

impl Vocabulary {
    /// Parses `vocabulary.txt`.
    pub fn parse(text: &str) -> Result<Vocabulary, SpeechError> {
        let decoder = byte_decoder();
        let lines: Vec<&str> = text.lines().collect();
        let ids: HashMap<&str, u32> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (*l, i as u32))
            .collect();
        let id = |name: &str| ids.get(name).copied();
        let need = |name: &str| {
            id(name).ok_or_else(|| SpeechError::Model(format!("vocabulary lacks {name}")))
        };
        let sot = need("<|startoftranscript|>")?;
        let multilingual = id("<|translate|>").is_some_and(|t| t > sot + 1)
            && id("<|en|>").is_some()
            && lines.len() >= 51_865;
        let languages = match (multilingual, id("<|translate|>")) {
            (true, Some(translate)) => (sot + 1..translate)
                .filter_map(|i| {
                    let name = lines.get(i as usize)?;
                    let code = name.strip_prefix("<|")?.strip_suffix("|>")?;
                    Some((i, code.to_owned()))
                })
                .collect(),
            _ => Vec::new(),
        };
        let specials = Specials {
            eot: need("<|endoftext|>")?,
            sot,
            transcribe: id("<|transcribe|>"),
            no_speech: id("<|nospeech|>").or_else(|| id("<|nocaptions|>")),
            no_timestamps: need("<|notimestamps|>")?,
            timestamp_begin: need("<|0.00|>")?,
            languages,
        };
        let bytes = lines
            .iter()
            .map(|line| {
                if line.starts_with("<|") && line.ends_with("|>") {
                    Vec::new()
                } else {
                    line.chars()
                        .filter_map(|c| decoder.get(&c).copied())
                        .collect()
                }
            })
            .collect();
        Ok(Vocabulary { bytes, specials })
    }

    /// True for models that know other languages than English.
    pub fn multilingual(&self) -> bool {
        !self.specials.languages.is_empty()
    }

    /// Text of a run of ordinary tokens (special and unknown ids contribute nothing).
    pub fn decode(&self, tokens: &[u32]) -> String {
        let bytes: Vec<u8> = tokens
            .iter()
            .filter(|&&t| t < self.specials.eot)
            .filter_map(|&t| self.bytes.get(t as usize))
            .flatten()
            .copied()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// GPT-2's `bytes_to_unicode`, inverted: printable stand-in character → original byte.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        map.insert(c, b);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_marker_maps_to_space() {
        // 'Ġ' (U+0120) stands for the space byte.
        assert_eq!(byte_decoder().get(&'\u{120}'), Some(&b' '));
        assert_eq!(byte_decoder().get(&'a'), Some(&b'a'));
    }
}
