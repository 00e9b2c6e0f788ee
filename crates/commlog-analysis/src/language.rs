//! The language of a whole message, by character trigrams (`whatlang`).

use serde::{Deserialize, Serialize};

/// Fewer letters than this give no reliable answer.
const MIN_LETTERS: usize = 12;
/// Below this confidence the answer is a guess. `whatlang`'s own `is_reliable` flag is
/// stricter and rejects ordinary one-sentence English messages (confidence ≈ 0.5), which
/// are the common case here.
const MIN_CONFIDENCE: f64 = 0.25;

/// A detected language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    /// ISO 639-1 code, e.g. "en"; ISO 639-3 where no two-letter code exists.
    pub code: String,
    /// The detector's confidence, 0..=1.
    pub confidence: f64,
}

/// The language of `text`, or `None` when it is too short or the detector is unsure.
pub fn detect(text: &str) -> Option<Language> {
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(text)?;
    if !info.is_reliable() && info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    let code = iso639_1(info.lang().code()).unwrap_or(info.lang().code());
    Some(Language {
        code: code.to_owned(),
        confidence: info.confidence(),
    })
}

/// The ISO 639-1 code for the ISO 639-3 codes `whatlang` reports.
fn iso639_1(code3: &str) -> Option<&'static str> {
    Some(match code3 {
        "epo" => "eo",
        "eng" => "en",
        "rus" => "ru",
        "cmn" => "zh",
        "spa" => "es",
        "por" => "pt",
        "ita" => "it",
        "ben" => "bn",
        "fra" => "fr",
        "deu" => "de",
        "ukr" => "uk",
        "kat" => "ka",
        "ara" => "ar",
        "hin" => "hi",
        "jpn" => "ja",
        "heb" => "he",
        "yid" => "yi",
        "pol" => "pl",
        "amh" => "am",
        "jav" => "jv",
        "kor" => "ko",
        "nob" => "nb",
        "dan" => "da",
        "swe" => "sv",
        "fin" => "fi",
        "tur" => "tr",
        "nld" => "nl",
        "hun" => "hu",
        "ces" => "cs",
        "ell" => "el",
        "bul" => "bg",
        "bel" => "be",
        "mar" => "mr",
        "kan" => "kn",
        "ron" => "ro",
        "slv" => "sl",
        "hrv" => "hr",
        "srp" => "sr",
        "mkd" => "mk",
        "lit" => "lt",
        "lav" => "lv",
        "est" => "et",
        "tam" => "ta",
        "vie" => "vi",
        "urd" => "ur",
        "tha" => "th",
        "guj" => "gu",
        "uzb" => "uz",
        "pan" => "pa",
        "aze" => "az",
        "ind" => "id",
        "tel" => "te",
        "pes" => "fa",
        "mal" => "ml",
        "ori" => "or",
        "mya" => "my",
        "nep" => "ne",
        "sin" => "si",
        "khm" => "km",
        "tuk" => "tk",
        "aka" => "ak",
        "zul" => "zu",
        "sna" => "sn",
        "afr" => "af",
        "lat" => "la",
        "slk" => "sk",
        "cat" => "ca",
        "tgl" => "tl",
        "hye" => "hy",
        _ => return None,
    })
}
