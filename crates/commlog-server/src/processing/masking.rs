//! Masking personal data in logs for the roles a company chose (`mask_pii_for_roles`): the
//! spans processing stored are replaced by `[EMAIL]`, `[PHONE]`, `[CARD]` … so every reader
//! of that role sees the same masked text.

use crate::state::AppState;
use commlog_analysis::pii::{self, PiiSpan};
use commlog_domain::log::CommunicationLog;
use commlog_store::Scope;

/// Whether the caller's role sees PII masked.
pub async fn applies(app: &AppState, scope: &Scope) -> Result<bool, commlog_store::StoreError> {
    let (settings, _) = app.store.processing_settings(scope.company_id()).await?;
    Ok(settings.mask_pii_for_roles.contains(&scope.actor.role))
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
