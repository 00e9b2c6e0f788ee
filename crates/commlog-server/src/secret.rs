//! [`Secret`]: a configuration value that must never reach a log line, an error message or a
//! `Debug` dump by accident.

use std::fmt;

/// A secret value; `Debug` and `Display` print `[redacted]`, [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    pub fn new(value: impl Into<T>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let secret: Secret = Secret::new("hunter2-hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert!(!format!("{secret}").contains("hunter2"));
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
        assert_eq!(format!("{:?}", Secret::<String>::new("x")), "[redacted]");
        assert_eq!(secret.expose(), "hunter2-hunter2");
        let bytes: Secret<Vec<u8>> = Secret::new(b"0123".to_vec());
        assert_eq!(format!("{bytes:?} {bytes}"), "[redacted] [redacted]");
    }
}
