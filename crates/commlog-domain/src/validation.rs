//! The rules of blueprint §6.1–6.2 that need no database: required content, time order and
//! duration, sentiment range, participants (an email log needs a valid email participant, SPEC
//! §3), sizes. Rules that need the database (active channel, same-company references, capacity)
//! live in the store, which calls these first.

use crate::log::{
    CommunicationLog, CommunicationLogPatch, NewCommunicationLog, NewParticipant, default_subject,
};
use crate::phone::normalize_e164;
use crate::{CommunicationType, FollowUpStatus, LogStatus, ValidationErrors};

pub const MIN_CONTENT_CHARS: usize = 10;
pub const MAX_CONTENT_BYTES: usize = 1_000_000;
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_TAGS: usize = 50;
pub const MAX_PARTICIPANTS: usize = 500;
/// A conversation longer than this is a data error, not a call.
pub const MAX_DURATION_SECONDS: i64 = 7 * 24 * 3600;

/// What validation derives from a valid log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Derived {
    pub duration_seconds: Option<i64>,
    pub duration_minutes: Option<i64>,
    /// Things worth telling the caller that do not stop the log from being saved.
    pub warnings: Vec<String>,
}

/// Checks and normalises, in place, the full body of a log about to be created.
pub fn validate_log(log: &mut NewCommunicationLog) -> Result<Derived, ValidationErrors> {
    check_log(log, true)
}

/// Checks and normalises, in place, a stored log with a patch applied. Its status is left to
/// the state machine ([`crate::status::check_transition`]), which is what lets a closed log be
/// archived although no log may be created archived.
pub fn validate_patched_log(log: &mut NewCommunicationLog) -> Result<Derived, ValidationErrors> {
    check_log(log, false)
}

fn check_log(log: &mut NewCommunicationLog, creating: bool) -> Result<Derived, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let mut derived = Derived::default();

    // PostgreSQL text cannot hold NUL: refusing it here keeps both engines alike.
    for (field, text) in [
        ("content", Some(&log.content)),
        ("subject", log.subject.as_ref()),
        ("summary", log.summary.as_ref()),
        ("transcription", log.transcription.as_ref()),
        ("external_id", log.external_id.as_ref()),
    ] {
        if text.is_some_and(|t| t.contains('\0')) {
            errs.add(
                field,
                "nul_character",
                format!("{field} must not contain NUL characters"),
            );
        }
    }

    // The minimum keeps what people type meaningful; a captured message ("ok", "thanks") is
    // what it is, and only has to be there.
    let typed = matches!(log.source.as_deref(), None | Some("manual" | "api"));
    let min_chars = if typed { MIN_CONTENT_CHARS } else { 1 };
    let content_chars = log.content.trim().chars().count();
    if content_chars < min_chars {
        errs.add(
            "content",
            "too_short",
            format!("content must be at least {min_chars} characters long"),
        );
    } else if log.content.len() > MAX_CONTENT_BYTES {
        errs.add(
            "content",
            "too_long",
            format!("content must be at most {MAX_CONTENT_BYTES} bytes"),
        );
    }

    let subject = match log.subject.take() {
        Some(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => default_subject(&log.content),
    };
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        errs.add(
            "subject",
            "too_long",
            format!("subject must be at most {MAX_SUBJECT_CHARS} characters"),
        );
    }
    log.subject = Some(subject);

    check_code(&mut errs, "channel", &log.channel, 20);
    log.channel = log.channel.trim().to_owned();

    match log.end_time {
        Some(end) => {
            let secs = (end - log.start_time).whole_seconds();
            if secs < 0 {
                errs.add(
                    "end_time",
                    "before_start",
                    "end time must be after start time",
                );
            } else if secs > MAX_DURATION_SECONDS {
                errs.add(
                    "end_time",
                    "too_long",
                    "a conversation cannot last more than 7 days",
                );
            } else {
                derived.duration_seconds = Some(secs);
            }
        }
        None => match log.duration_seconds {
            Some(s) if !(0..=MAX_DURATION_SECONDS).contains(&s) => errs.add(
                "duration_seconds",
                "out_of_range",
                "duration must be between 0 and 7 days in seconds",
            ),
            Some(s) => derived.duration_seconds = Some(s),
            None if log.communication_type == CommunicationType::Call => derived
                .warnings
                .push("call has no end_time or duration_seconds: its duration is unknown".into()),
            None => {}
        },
    }
    derived.duration_minutes = derived.duration_seconds.map(|s| s / 60);

    if let Some(score) = log.sentiment_score {
        if !score.is_finite() || !(-1.0..=1.0).contains(&score) {
            errs.add(
                "sentiment_score",
                "out_of_range",
                "sentiment score must be between -1 and 1",
            );
        } else {
            log.sentiment_score = Some((score * 100.0).round() / 100.0);
        }
    }

    if creating && log.status == Some(LogStatus::Archived) {
        errs.add(
            "status",
            "invalid_initial",
            "a log cannot be created archived; close it first",
        );
    }

    if log.requires_follow_up {
        if log.follow_up_status.is_none() {
            log.follow_up_status = Some(FollowUpStatus::Pending);
        }
        if log.follow_up_date.is_none() {
            derived
                .warnings
                .push("follow-up requested without a follow_up_date".into());
        }
    } else if log.follow_up_status.is_some_and(|s| s.is_active()) {
        errs.add(
            "follow_up_status",
            "needs_follow_up",
            "an active follow_up_status needs requires_follow_up = true",
        );
    }

    normalize_list(&mut errs, "tags", &mut log.tags, MAX_TAGS, 50);
    normalize_list(&mut errs, "key_topics", &mut log.key_topics, 50, 100);
    dedupe(&mut log.category_ids);
    dedupe(&mut log.watcher_ids);

    if let Some(source) = &log.source {
        check_code(&mut errs, "source", source, 50);
    }
    if let Some(ext) = &log.external_id
        && (ext.is_empty() || ext.len() > 500)
    {
        errs.add(
            "external_id",
            "invalid_length",
            "external_id must be 1 to 500 bytes",
        );
    }
    if log
        .summary
        .as_ref()
        .is_some_and(|s| s.len() > MAX_CONTENT_BYTES)
    {
        errs.add("summary", "too_long", "summary is too long");
    }
    if log
        .transcription
        .as_ref()
        .is_some_and(|s| s.len() > 10 * MAX_CONTENT_BYTES)
    {
        errs.add("transcription", "too_long", "transcription is too long");
    }

    validate_participants(&mut errs, &mut log.participants);
    let is_email = log.communication_type == CommunicationType::Email || log.channel == "email";
    if is_email && !log.participants.iter().any(|p| p.email.is_some()) {
        errs.add(
            "participants",
            "email_participant_required",
            "an email log needs at least one participant with a valid email address",
        );
    }
    if log.customer_id.is_none() {
        derived
            .warnings
            .push("no customer linked to this log".into());
    }

    errs.into_result().map(|()| derived)
}

fn check_code(errs: &mut ValidationErrors, field: &str, value: &str, max: usize) {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= max
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if !ok {
        errs.add(
            field,
            "invalid_code",
            format!("{field} must be 1 to {max} characters of a-z, 0-9, _ - ."),
        );
    }
}

fn normalize_list(
    errs: &mut ValidationErrors,
    field: &str,
    items: &mut Vec<String>,
    max_items: usize,
    max_chars: usize,
) {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let t = item.trim().to_owned();
        if t.is_empty() || t.chars().count() > max_chars || t.contains('\0') {
            errs.add(
                field,
                "invalid_item",
                format!("each of {field} must be 1 to {max_chars} characters"),
            );
            continue;
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > max_items {
        errs.add(field, "too_many", format!("at most {max_items} {field}"));
    }
    *items = out;
}

fn dedupe<T: PartialEq + Copy>(v: &mut Vec<T>) {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v.iter() {
        if !out.contains(x) {
            out.push(*x);
        }
    }
    *v = out;
}

fn validate_participants(errs: &mut ValidationErrors, ps: &mut [NewParticipant]) {
    if ps.len() > MAX_PARTICIPANTS {
        errs.add(
            "participants",
            "too_many",
            format!("at most {MAX_PARTICIPANTS} participants"),
        );
        return;
    }
    for (i, p) in ps.iter_mut().enumerate() {
        let field = format!("participants[{i}]");
        match (&p.email, &p.phone) {
            (None, None) => errs.add(
                &field,
                "address_required",
                "a participant needs an email or a phone",
            ),
            (Some(e), _) => match normalize_email(e) {
                Some(n) => p.email = Some(n),
                None => errs.add(
                    &format!("{field}.email"),
                    "invalid_email",
                    "not a valid email address",
                ),
            },
            _ => {}
        }
        if let Some(ph) = &p.phone {
            match normalize_e164(ph, None) {
                Ok(n) => p.phone = Some(n),
                Err(m) => errs.add(&format!("{field}.phone"), "invalid_phone", m),
            }
        }
        if p.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            errs.add(
                &format!("{field}.name"),
                "too_long",
                "name must be at most 200 characters",
            );
        } else if p.name.as_ref().is_some_and(|n| n.contains('\0')) {
            errs.add(
                &format!("{field}.name"),
                "nul_character",
                "name must not contain NUL characters",
            );
        }
    }
}

/// Lower-cases and checks an email address (`local@domain.tld`, no spaces, at most 254 bytes).
pub fn normalize_email(input: &str) -> Option<String> {
    let e = input.trim();
    if e.len() > 254
        || e.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
    {
        return None;
    }
    let (local, domain) = e.rsplit_once('@')?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return None;
    }
    Some(e.to_lowercase())
}

impl NewCommunicationLog {
    /// The editable fields of a stored log, as a full body, so a patch is applied and then
    /// validated by the same rules as a create.
    pub fn from_existing(l: &CommunicationLog) -> Self {
        Self {
            customer_id: l.customer_id,
            contact_id: l.contact_id,
            assigned_to_user_id: l.assigned_to_user_id,
            communication_type: l.communication_type,
            channel: l.channel.clone(),
            direction: l.direction,
            subject: Some(l.subject.clone()),
            start_time: l.start_time,
            end_time: l.end_time,
            duration_seconds: l.duration_seconds,
            call_outcome: l.call_outcome,
            content: l.content.clone(),
            summary: l.summary.clone(),
            transcription: l.transcription.clone(),
            priority: Some(l.priority),
            status: Some(l.status),
            is_internal: l.is_internal,
            sentiment: l.sentiment,
            sentiment_score: l.sentiment_score,
            key_topics: l.key_topics.clone(),
            requires_follow_up: l.requires_follow_up,
            follow_up_assigned_to: l.follow_up_assigned_to,
            follow_up_date: l.follow_up_date,
            follow_up_status: l.follow_up_status,
            source: Some(l.source.clone()),
            external_id: l.external_id.clone(),
            thread_id: l.thread_id,
            category_ids: l.categories.iter().map(|c| c.id).collect(),
            tags: l.tags.clone(),
            watcher_ids: l.watchers.clone(),
            participants: l
                .participants
                .iter()
                .map(|p| NewParticipant {
                    role: p.role,
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                    name: p.name.clone(),
                    contact_id: p.contact_id,
                    user_id: p.user_id,
                })
                .collect(),
        }
    }

    /// Applies a patch; the result still has to pass [`validate_log`].
    pub fn apply(&mut self, p: CommunicationLogPatch) {
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = p.$f { self.$f = v; })* };
        }
        macro_rules! set_some {
            ($($f:ident),*) => { $(if let Some(v) = p.$f { self.$f = Some(v); })* };
        }
        set!(
            customer_id,
            contact_id,
            assigned_to_user_id,
            communication_type,
            call_outcome,
            channel,
            direction,
            start_time,
            content,
            summary,
            transcription,
            is_internal,
            sentiment,
            sentiment_score,
            key_topics,
            requires_follow_up,
            follow_up_assigned_to,
            follow_up_date,
            follow_up_status,
            thread_id,
            category_ids,
            tags,
            watcher_ids,
            participants
        );
        set_some!(subject, priority, status);
        if let Some(end) = p.end_time {
            self.end_time = end;
            self.duration_seconds = None;
        }
        if let Some(d) = p.duration_seconds {
            self.duration_seconds = d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Direction, ParticipantRole};
    use time::macros::datetime;

    fn call() -> NewCommunicationLog {
        serde_json::from_value(serde_json::json!({
            "communication_type": "call", "channel": "phone", "direction": "outbound",
            "start_time": "2026-03-01T10:00:00Z", "end_time": "2026-03-01T10:12:30Z",
            "content": "Discussed the renewal and pricing."
        }))
        .expect("valid body")
    }

    #[test]
    fn duration_is_computed_from_start_and_end() {
        let mut l = call();
        let d = validate_log(&mut l).expect("valid");
        assert_eq!(d.duration_seconds, Some(750));
        assert_eq!(d.duration_minutes, Some(12));
        assert_eq!(
            l.subject.as_deref(),
            Some("Discussed the renewal and pricing.")
        );
    }

    #[test]
    fn end_before_start_is_refused() {
        let mut l = call();
        l.end_time = Some(datetime!(2026-03-01 09:00 UTC));
        let e = validate_log(&mut l).expect_err("invalid");
        assert_eq!(e.errors[0].field, "end_time");
    }

    #[test]
    fn short_content_is_refused() {
        let mut l = call();
        l.content = "   hi    ".into();
        assert_eq!(
            validate_log(&mut l).expect_err("invalid").errors[0].code,
            "too_short"
        );
    }

    #[test]
    fn sentiment_score_must_be_in_range_and_is_rounded() {
        let mut l = call();
        l.sentiment_score = Some(1.5);
        assert!(validate_log(&mut l).is_err());
        let mut l = call();
        l.sentiment_score = Some(-0.456);
        validate_log(&mut l).expect("valid");
        assert_eq!(l.sentiment_score, Some(-0.46));
    }

    #[test]
    fn email_log_needs_an_email_participant() {
        let mut l = call();
        l.communication_type = CommunicationType::Email;
        l.channel = "email".into();
        let e = validate_log(&mut l).expect_err("invalid");
        assert_eq!(e.errors[0].code, "email_participant_required");
        l.participants = vec![NewParticipant {
            role: ParticipantRole::From,
            email: Some(" Ann@Example.COM ".into()),
            phone: None,
            name: None,
            contact_id: None,
            user_id: None,
        }];
        validate_log(&mut l).expect("valid");
        assert_eq!(l.participants[0].email.as_deref(), Some("ann@example.com"));
    }

    #[test]
    fn bad_participant_addresses_name_their_field() {
        let mut l = call();
        l.participants = vec![NewParticipant {
            role: ParticipantRole::Callee,
            email: None,
            phone: Some("not a number".into()),
            name: None,
            contact_id: None,
            user_id: None,
        }];
        let e = validate_log(&mut l).expect_err("invalid");
        assert_eq!(e.errors[0].field, "participants[0].phone");
    }

    #[test]
    fn email_addresses_are_checked() {
        assert!(normalize_email("a@b.co").is_some());
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b..co", "a@b.co>",
        ] {
            assert!(normalize_email(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let mut l = call();
        let patch: CommunicationLogPatch =
            serde_json::from_value(serde_json::json!({"direction": "inbound", "summary": null}))
                .expect("patch");
        l.summary = Some("x".into());
        l.apply(patch);
        assert_eq!(l.direction, Direction::Inbound);
        assert_eq!(l.summary, None);
        assert_eq!(l.channel, "phone");
    }

    #[test]
    fn archived_is_refused_on_create_only() {
        let mut l = call();
        l.status = Some(LogStatus::Archived);
        let e = validate_log(&mut l.clone()).expect_err("invalid");
        assert_eq!(e.errors[0].code, "invalid_initial");
        validate_patched_log(&mut l).expect("the state machine decides");
    }

    #[test]
    fn nul_characters_are_refused_in_text() {
        let mut l = call();
        l.content = "Discussed the \0 renewal.".into();
        l.tags = vec!["a\0b".into()];
        let e = validate_log(&mut l).expect_err("invalid");
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["content", "tags"]);
    }

    #[test]
    fn follow_up_defaults_to_pending() {
        let mut l = call();
        l.requires_follow_up = true;
        let d = validate_log(&mut l).expect("valid");
        assert_eq!(l.follow_up_status, Some(FollowUpStatus::Pending));
        assert!(d.warnings.iter().any(|w| w.contains("follow_up_date")));
    }
}
