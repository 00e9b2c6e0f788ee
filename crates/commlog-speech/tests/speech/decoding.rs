//! Decoding every supported format, resampling, limits and hostile input.

use commlog_speech::audio::resample;
use commlog_speech::{Limits, SpeechError, decode, decode_with_limits};

use super::support::{alaw, assert_tone, fixture, mulaw, pcm16, sine, wav, wav_with};

#[test]
fn wav_encodings_decode_to_16k() {
    let tone = sine(440.0, 8000, 1.0, 0.5);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "pcm u8",
            wav(
                1,
                8,
                1,
                8000,
                &tone
                    .iter()
                    .map(|s| (s * 127.0 + 128.0) as u8)
                    .collect::<Vec<_>>(),
            ),
        ),
        ("pcm s16", wav(1, 16, 1, 8000, &pcm16(&tone))),
        (
            "pcm s24",
            wav(
                1,
                24,
                1,
                8000,
                &tone
                    .iter()
                    .flat_map(|s| {
                        let v = (s * 8_388_607.0) as i32;
                        v.to_le_bytes()[..3].to_vec()
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "pcm s32",
            wav(
                1,
                32,
                1,
                8000,
                &tone
                    .iter()
                    .flat_map(|s| ((f64::from(*s) * 2_147_483_647.0) as i32).to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "float32",
            wav(
                3,
                32,
                1,
                8000,
                &tone
                    .iter()
                    .flat_map(|s| s.to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
        ),
        (
            "mu-law",
            wav(
                7,
                8,
                1,
                8000,
                &tone.iter().map(|&s| mulaw(s)).collect::<Vec<_>>(),
            ),
        ),
        (
            "a-law",
            wav(
                6,
                8,
                1,
                8000,
                &tone.iter().map(|&s| alaw(s)).collect::<Vec<_>>(),
            ),
        ),
        (
            "mu-law, extended fmt",
            wav_with(
                7,
                8,
                1,
                8000,
                &tone.iter().map(|&s| mulaw(s)).collect::<Vec<_>>(),
                true,
            ),
        ),
        (
            "a-law, extended fmt",
            wav_with(
                6,
                8,
                1,
                8000,
                &tone.iter().map(|&s| alaw(s)).collect::<Vec<_>>(),
                true,
            ),
        ),
    ];
    for (what, bytes) in cases {
        let audio = decode(&bytes, Some("audio/wav")).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(audio.sample_rate, 16_000, "{what}");
        assert_eq!(audio.channels.len(), 1, "{what}");
        assert_eq!(audio.channels[0].len(), 16_000, "{what}");
        assert_tone(&audio.channels[0], 16_000, 440.0, 0.5, what);
    }
}

#[test]
fn headerless_g711_and_au_use_the_hint_or_header() {
    let tone = sine(440.0, 8000, 1.0, 0.5);
    let ulaw: Vec<u8> = tone.iter().map(|&s| mulaw(s)).collect();
    for hint in ["audio/basic", "audio/PCMU", "audio/x-mulaw; rate=8000"] {
        let audio = decode(&ulaw, Some(hint)).unwrap_or_else(|e| panic!("{hint}: {e}"));
        assert_tone(&audio.channels[0], 16_000, 440.0, 0.5, hint);
    }
    let alaw_bytes: Vec<u8> = tone.iter().map(|&s| alaw(s)).collect();
    let audio = decode(&alaw_bytes, Some("audio/PCMA")).expect("a-law");
    assert_tone(&audio.channels[0], 16_000, 440.0, 0.5, "raw a-law");

    let mut au = b".snd".to_vec();
    for field in [24u32, ulaw.len() as u32, 1, 8000, 1] {
        au.extend_from_slice(&field.to_be_bytes());
    }
    au.extend_from_slice(&ulaw);
    let audio = decode(&au, None).expect("au");
    assert_tone(&audio.channels[0], 16_000, 440.0, 0.5, "au");
}

#[test]
fn compressed_formats_keep_channels_separate() {
    for (name, hint, channels) in [
        ("tone_440_1000_44k_stereo.mp3", Some("audio/mpeg"), 2),
        ("tone_440_22k_mono.flac", None, 1),
        ("tone_440_1000_48k_stereo.ogg", Some("audio/ogg"), 2),
    ] {
        let audio = decode(&fixture(name), hint).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(audio.sample_rate, 16_000, "{name}");
        assert_eq!(audio.channels.len(), channels, "{name}");
        assert!(
            (audio.duration_seconds() - 1.0).abs() < 0.1,
            "{name}: {} s",
            audio.duration_seconds()
        );
        // The fixtures are sines at -6 dBFS: 440 Hz left (or mono), 1000 Hz right.
        assert_tone(&audio.channels[0], 16_000, 440.0, 0.5, name);
        if channels == 2 {
            assert_tone(&audio.channels[1], 16_000, 1000.0, 0.5, name);
        }
    }
}

#[test]
fn resampling_keeps_frequency_and_amplitude() {
    for (from, to, freq) in [
        (44_100, 16_000, 1000.0),
        (8000, 16_000, 440.0),
        (48_000, 16_000, 3000.0),
        (16_000, 8000, 700.0),
    ] {
        let input = sine(freq, from, 1.0, 0.8);
        let output = resample(&input, from, to);
        let expected_len = (input.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
        assert_eq!(output.len(), expected_len);
        assert_tone(&output, to, freq, 0.8, &format!("{from}->{to}"));
    }
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    let garbage: Vec<u8> = (0..4096).map(|_| noise()).collect();
    let good_wav = wav(1, 16, 1, 8000, &pcm16(&sine(440.0, 8000, 0.5, 0.5)));
    let mp3 = fixture("tone_440_1000_44k_stereo.mp3");
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("empty", Vec::new(), None),
        ("garbage", garbage.clone(), None),
        ("garbage as mp3", garbage.clone(), Some("audio/mpeg")),
        ("garbage as ogg", garbage, Some("audio/ogg")),
        ("wav header only", good_wav[..30].to_vec(), None),
        (
            "riff with junk",
            [b"RIFF\xff\xff\xff\xffWAVEfmt ".as_slice(), &[0xff; 40]].concat(),
            None,
        ),
        ("au header only", b".snd\0\0\0\x18".to_vec(), None),
        ("mp3 first bytes", mp3[..64].to_vec(), Some("audio/mpeg")),
    ];
    for (what, bytes, hint) in cases {
        assert!(decode(&bytes, hint).is_err(), "{what} decoded");
    }
    // A recording cut off in the middle keeps what is there.
    let cut = decode(&good_wav[..good_wav.len() / 2], None).expect("truncated wav");
    assert!((cut.duration_seconds() - 0.25).abs() < 0.01);
}

#[test]
fn limits_refuse_long_or_large_input() {
    let bytes = wav(1, 16, 1, 8000, &pcm16(&sine(440.0, 8000, 3.0, 0.5)));
    let short = Limits {
        max_seconds: 2,
        ..Limits::default()
    };
    assert!(matches!(
        decode_with_limits(&bytes, None, &short),
        Err(SpeechError::TooLong { .. })
    ));
    let small = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        decode_with_limits(&bytes, None, &small),
        Err(SpeechError::TooLarge { .. })
    ));
    let raw = vec![0xffu8; 8000 * 3];
    assert!(matches!(
        decode_with_limits(&raw, Some("audio/basic"), &short),
        Err(SpeechError::TooLong { .. })
    ));
}
