//! Masking personal data for those who may not see it — roles a company chose
//! (`mask_pii_for_roles`) and API tokens without the `view_pii` permission: the spans
//! processing stored are replaced by `[EMAIL]`, `[PHONE]`, `[CARD]` … so every such reader sees
//! the same masked text; participants' addresses, numbers and names are replaced too.

use crate::state::AppState;
use commlog_analysis::pii::{self, PiiSpan};
use commlog_domain::log::CommunicationLog;
use commlog_store::Scope;

/// Whether the caller sees PII masked: without the `view_pii` permission (an API token scoped
/// without it), or in a role the company masks — except compliance officers, whose duties
/// (access requests, holds) need the data as it is.
pub async fn applies(app: &AppState, scope: &Scope) -> Result<bool, commlog_store::StoreError> {
    applies_to(app, &scope.actor).await
}

pub async fn applies_to(
    app: &AppState,
    actor: &commlog_domain::Actor,
) -> Result<bool, commlog_store::StoreError> {
    if !actor.can(commlog_domain::Permission::ViewPii) {
        return Ok(true);
    }
    if actor.compliance {
        return Ok(false);
    }
    let (settings, _) = app.store.processing_settings(actor.company_id).await?;
    Ok(settings.mask_pii_for_roles.contains(&actor.role))
}

/// Masks personal data found in a short text with no stored spans (a subject line in a report).
pub fn mask_plain(text: &str) -> String {
    mask_text(text, None)
}

/// Masks the subject, content and transcript of a log with the spans stored for each; spans
/// that no longer fit the text (it changed before processing ran again) are found afresh.
pub fn mask_log(log: &mut CommunicationLog) {
    let stored = |field: &str| -> Option<Vec<PiiSpan>> {
        serde_json::from_value(log.analysis.get("pii")?.get(field)?.clone()).ok()
    };
    let (subject, content, transcription) = (
        stored("subject"),
        stored("content"),
        stored("transcription"),
    );
    log.subject = mask_text(&log.subject, subject);
    log.content = mask_text(&log.content, content);
    if let Some(t) = &log.transcription {
        log.transcription = Some(mask_text(t, transcription));
    }
    if let Some(obj) = log.analysis.as_object_mut() {
        // The spans locate what was masked; the most negative sentence may quote it.
        obj.remove("sentiment_detail");
    }
    mask_participants(&mut log.participants);
}

/// Replaces participants' addresses, numbers and names (links to contacts and users stay).
pub fn mask_participants(participants: &mut [commlog_domain::Participant]) {
    for p in participants {
        for (value, label) in [
            (&mut p.email, "[EMAIL]"),
            (&mut p.phone, "[PHONE]"),
            (&mut p.name, "[NAME]"),
        ] {
            if value.is_some() {
                *value = Some(label.to_owned());
            }
        }
    }
}

fn mask_text(text: &str, spans: Option<Vec<PiiSpan>>) -> String {
    let fits = |s: &Vec<PiiSpan>| {
        s.iter().all(|p| {
            p.start <= p.end && text.is_char_boundary(p.start) && text.is_char_boundary(p.end)
        })
    };
    let spans = match spans {
        Some(s) if fits(&s) => s,
        _ => pii::detect(text, &pii::PiiContext::default()),
    };
    pii::mask(text, &spans)
}
