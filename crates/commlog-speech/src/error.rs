//! The crate's error type.

/// Everything that can go wrong while decoding or transcribing audio.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// The bytes are not in a format this crate can decode.
    #[error("unsupported or unrecognised audio format: {0}")]
    UnsupportedFormat(String),
    /// The container was recognised but its contents are damaged or inconsistent.
    #[error("corrupt audio: {0}")]
    CorruptAudio(String),
    /// The recording decodes to no samples at all.
    #[error("the recording contains no audio")]
    EmptyAudio,
    /// The input is larger than the configured limit, in bytes.
    #[error("audio input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the offered input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The recording is longer than the configured limit, in seconds.
    #[error("recording longer than the limit of {limit_seconds} s")]
    TooLong {
        /// The limit in force.
        limit_seconds: u64,
    },
    /// Model files are missing, unreadable or not of a supported shape.
    #[error("speech model: {0}")]
    Model(String),
    /// Reading model files failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
