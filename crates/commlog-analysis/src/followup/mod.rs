//! Commitments with a due time in a conversation: "call me back tomorrow", "send the contract
//! by Friday", "let's talk in two weeks". The due time is computed in the company's time
//! zone, so "tomorrow at 9" means 09:00 there, also across daylight-saving changes.
//!
//! A sentence counts when it has a commitment cue (a future or request form such as "I'll",
//! "let's", "please", "call … back", "follow up", "send", "by") *and* a future time
//! expression. Past references ("yesterday", "last Friday") are not time expressions here,
//! so "I called yesterday" and "we met last Friday" yield nothing.

mod clock;
mod when;

use crate::text::sentences;
use chrono_tz::Tz;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use time::OffsetDateTime;
pub use when::DEFAULT_HOUR;

/// A commitment found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// When it is due, with the company time zone's offset at that instant.
    pub due: OffsetDateTime,
    /// The sentence that states it.
    pub phrase: String,
}

/// Builds a pattern that is a constant of this module; a typo is caught by the unit tests.
fn pattern(re: &str) -> Regex {
    #[expect(
        clippy::expect_used,
        reason = "constant patterns, compiled in every test run"
    )]
    Regex::new(re).expect("valid constant regex")
}

static CUE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b(?:(?:call|ring|phone|get|getting|circle|come|write)\s+(?:\w+\s+)?back|follow(?:ing)?[\s-]?up|touch\s+base|check\s+in|reach\s+out|see\s+you|talk\s+soon|let'?s|let\s+us|i'?ll|we'?ll|you'?ll|he'?ll|she'?ll|they'?ll|i\s+will|we\s+will|will\s+\w+|shall|going\s+to|gonna|plan\s+to|promise|remind|send|deliver|submit|call|email|e-mail|ring|phone|contact|talk|speak|meet|discuss|schedule|confirm|review|revert|due|deadline|expect|expecting|can\s+you|could\s+you|would\s+you|please|by|until|before)\b",
    )
});

/// The first commitment in `text`, judged against `now` in time zone `tz`.
pub fn extract(text: &str, now: OffsetDateTime, tz: Tz) -> Option<FollowUp> {
    let local_now = clock::to_local(now, tz)?;
    sentences(text).into_iter().find_map(|sentence| {
        if !CUE.is_match(sentence) {
            return None;
        }
        let due = when::due(sentence, local_now)?;
        Some(FollowUp {
            due,
            phrase: sentence.to_owned(),
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_compile() {
        assert!(super::CUE.is_match("I'll call you"));
        super::when::compile_all();
    }
}
