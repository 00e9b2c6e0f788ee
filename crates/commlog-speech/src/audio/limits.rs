//! Size and duration limits for untrusted recordings.

use crate::error::SpeechError;

/// Upper bounds [`decode_with_limits`](super::decode_with_limits) enforces. Longer or larger
/// recordings are refused, not truncated, so a stored transcript never silently misses the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest recording accepted, in seconds.
    pub max_seconds: u64,
    /// Largest encoded input accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    /// Four hours, 2 GiB: far beyond any call or voice message, small enough to bound memory.
    fn default() -> Limits {
        Limits {
            max_seconds: 4 * 60 * 60,
            max_bytes: 2 << 30,
        }
    }
}

impl Limits {
    /// Fails once `frames` at `sample_rate` exceed the duration limit.
    pub(crate) fn check_frames(&self, frames: usize, sample_rate: u32) -> Result<(), SpeechError> {
        if sample_rate > 0 && frames as u64 > self.max_seconds * u64::from(sample_rate) {
            return Err(SpeechError::TooLong {
                limit_seconds: self.max_seconds,
            });
        }
        Ok(())
    }
}
