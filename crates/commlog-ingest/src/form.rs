//! `application/x-www-form-urlencoded` bodies and query strings, bounded, with duplicate
//! detection for the fields a parser reads.

use crate::error::{ParseError, check_size};

/// The most name/value pairs a form may carry.
const MAX_PAIRS: usize = 512;

/// A decoded form: its pairs in the order received.
#[derive(Debug, Clone, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Decodes a form body of at most `limit` bytes.
    pub(crate) fn parse(body: &[u8], limit: usize) -> Result<Self, ParseError> {
        check_size(body, limit)?;
        let mut pairs = Vec::new();
        for (k, v) in form_urlencoded::parse(body) {
            if pairs.len() == MAX_PAIRS {
                return Err(ParseError::malformed(format!(
                    "more than {MAX_PAIRS} form fields"
                )));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The value of `name`, if present and non-empty; an error if it is given twice.
    pub(crate) fn get(&self, name: &str) -> Result<Option<&str>, ParseError> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name {
                if found.is_some() {
                    return Err(ParseError::invalid(name, "given more than once"));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    /// The value of `name`, which must be present and non-empty.
    pub(crate) fn require(&self, name: &str) -> Result<&str, ParseError> {
        self.get(name)?.ok_or_else(|| ParseError::missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_detects_duplicates() {
        let f = Form::parse(b"a=1&b=x+y%21&a=2&c=", 1024).expect("form");
        assert_eq!(f.get("b"), Ok(Some("x y!")));
        assert!(f.get("a").is_err());
        assert_eq!(f.get("c"), Ok(None));
        assert_eq!(f.require("c"), Err(ParseError::missing("c")));
        assert_eq!(f.pairs.len(), 4);
    }

    #[test]
    fn bounds_size_and_pair_count() {
        assert!(Form::parse(&[b'a'; 20], 10).is_err());
        let many = "a=1&".repeat(MAX_PAIRS + 1);
        assert!(Form::parse(many.as_bytes(), 1 << 20).is_err());
    }
}
