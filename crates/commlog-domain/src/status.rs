//! The status state machine of a communication log (SPEC §3):
//! `logged → in_progress → awaiting_response → resolved → closed`, `escalated` reachable from
//! any open state, `archived` only from `closed`. A resolved log may be reopened.

use crate::LogStatus::{self, *};

/// Whether a log in this state still asks for work.
pub fn is_open(s: LogStatus) -> bool {
    matches!(s, Logged | InProgress | AwaitingResponse | Escalated)
}

/// The states a log may move to from `from`.
pub fn allowed_next(from: LogStatus) -> &'static [LogStatus] {
    match from {
        Logged => &[InProgress, AwaitingResponse, Escalated, Resolved],
        InProgress => &[AwaitingResponse, Escalated, Resolved],
        AwaitingResponse => &[InProgress, Escalated, Resolved],
        Escalated => &[InProgress, AwaitingResponse, Resolved],
        Resolved => &[Closed, InProgress],
        Closed => &[Archived],
        Archived => &[],
    }
}

/// Checks one transition; staying in the same state is always allowed (an idempotent update).
pub fn check_transition(from: LogStatus, to: LogStatus) -> Result<(), String> {
    if from == to || allowed_next(from).contains(&to) {
        return Ok(());
    }
    let allowed: Vec<&str> = allowed_next(from).iter().map(|s| s.as_str()).collect();
    Err(if allowed.is_empty() {
        format!("a log in status `{from}` cannot change status")
    } else {
        format!(
            "cannot move from `{from}` to `{to}`; allowed: {}",
            allowed.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_path_is_allowed() {
        let path = [
            Logged,
            InProgress,
            AwaitingResponse,
            Resolved,
            Closed,
            Archived,
        ];
        for pair in path.windows(2) {
            assert!(check_transition(pair[0], pair[1]).is_ok(), "{:?}", pair);
        }
    }

    #[test]
    fn escalation_is_reachable_from_every_open_state_and_no_other() {
        for s in LogStatus::ALL {
            let ok = check_transition(*s, Escalated).is_ok();
            assert_eq!(ok, is_open(*s), "{s}");
        }
    }

    #[test]
    fn archived_only_from_closed_and_nothing_leaves_it() {
        for s in LogStatus::ALL {
            if *s != Closed && *s != Archived {
                assert!(check_transition(*s, Archived).is_err(), "{s}");
            }
            if *s != Archived {
                assert!(check_transition(Archived, *s).is_err());
            }
        }
    }

    #[test]
    fn skipping_backwards_is_refused_with_the_allowed_list() {
        let err = check_transition(Closed, Logged).expect_err("refused");
        assert!(err.contains("allowed: archived"), "{err}");
    }
}
