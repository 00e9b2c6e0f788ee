//! The error every webhook parser returns, and the helpers that keep its messages short and
//! safe to log (input is quoted truncated, with control characters escaped).

/// Why a webhook body (or one of its fields) could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is over the size limit; nothing was parsed.
    #[error("body is {actual} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The body's size in bytes.
        actual: usize,
    },
    /// A required field is absent or empty.
    #[error("`{0}` is missing")]
    Missing(String),
    /// A field is present but its value is not acceptable.
    #[error("`{field}` is invalid: {reason}")]
    Invalid {
        /// The field's name as the provider spells it.
        field: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// The body as a whole is not in the expected format.
    #[error("malformed body: {0}")]
    Malformed(String),
}

impl ParseError {
    /// A required field is absent.
    pub fn missing(field: impl Into<String>) -> Self {
        Self::Missing(field.into())
    }

    /// A field has an unacceptable value.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The body is not in the expected format.
    pub fn malformed(reason: impl Into<String>) -> Self {
        Self::Malformed(reason.into())
    }

    /// A JSON decoding error, its message cut to 200 characters (it may quote the input).
    pub fn json(e: &serde_json::Error) -> Self {
        let text = e.to_string();
        let mut cut: String = text.chars().take(200).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        Self::Malformed(cut.replace(char::is_control, " "))
    }
}

/// Refuses a body over `limit` bytes.
pub fn check_size(body: &[u8], limit: usize) -> Result<(), ParseError> {
    if body.len() > limit {
        return Err(ParseError::TooLarge {
            limit,
            actual: body.len(),
        });
    }
    Ok(())
}

/// Quotes a piece of input for an error message: at most 64 characters, control characters
/// escaped, so a hostile value cannot flood or forge log lines.
pub(crate) fn shown(s: &str) -> String {
    let mut out = String::from("`");
    for (i, c) in s.chars().enumerate() {
        if i == 64 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// Parses a non-negative integer written in plain decimal digits.
pub(crate) fn parse_u64(field: &str, value: &str) -> Result<u64, ParseError> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::invalid(
            field,
            format!("{} is not a non-negative integer", shown(value)),
        ));
    }
    v.parse::<u64>()
        .map_err(|_| ParseError::invalid(field, format!("{} is out of range", shown(value))))
}

/// Checks that an identifier-like value is non-empty, at most `max` bytes and free of control
/// characters.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ParseError> {
    if value.trim().is_empty() {
        return Err(ParseError::missing(field));
    }
    if value.len() > max {
        return Err(ParseError::invalid(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ParseError::invalid(field, "contains control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_truncates_and_escapes() {
        assert_eq!(shown("a\nb"), "`a\\nb`");
        let long = "x".repeat(100);
        assert_eq!(shown(&long).chars().count(), 64 + 3);
    }

    #[test]
    fn integers_are_plain_digits() {
        assert_eq!(parse_u64("n", " 42 "), Ok(42));
        assert!(parse_u64("n", "-1").is_err());
        assert!(parse_u64("n", "1e3").is_err());
        assert!(parse_u64("n", "").is_err());
        assert!(parse_u64("n", "99999999999999999999999").is_err());
    }

    #[test]
    fn size_limit_is_enforced() {
        assert!(check_size(&[0; 10], 10).is_ok());
        assert_eq!(
            check_size(&[0; 11], 10),
            Err(ParseError::TooLarge {
                limit: 10,
                actual: 11
            })
        );
    }
}
