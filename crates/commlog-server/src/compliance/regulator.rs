//! Regulator exports: every communication of a period — live, archived, deleted and purged
//! tombstones alike — with its attachments and recordings and the audit trail of the period, as
//! a ZIP whose `manifest.json` lists each file's SHA-256 and is signed (`manifest.sig`, Ed25519).
//! The signing key is derived from the master key, so it never needs storing; its public half is
//! in the manifest and at `GET /api/compliance/signing-key/`, where a regulator can fetch it once
//! and check every export against it.

use super::export::Archive;
use crate::error::ApiError;
use crate::state::AppState;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use commlog_store::Scope;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use time::OffsetDateTime;

/// The longest period one export covers.
pub const MAX_DAYS: i64 = 366;

/// The key exports are signed with: Ed25519 from a seed derived from the master key.
pub fn signing_key(app: &AppState) -> Result<Ed25519KeyPair, ApiError> {
    let seed = app
        .cipher
        .derive_key("commlog regulator export signing key");
    Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|_| ApiError::internal("the export signing key could not be made"))
}

/// The public half of the signing key, base64.
pub fn public_key(app: &AppState) -> Result<String, ApiError> {
    Ok(STANDARD.encode(signing_key(app)?.public_key().as_ref()))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("building the regulator export failed: {e}"))
}

/// Builds the export of `[since, until)`; the caller has checked the permission and the period.
pub async fn regulator_export(
    app: &AppState,
    scope: &Scope,
    since: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<(Vec<u8>, serde_json::Value), ApiError> {
    let mut archive = Archive::new();
    let ids = app.store.period_log_ids(scope, since, until).await?;
    let (mut logs, mut files, mut missing) = (0usize, 0usize, 0usize);
    for chunk in ids.chunks(500) {
        let (page, attachments) = app.store.subject_export_logs(scope, chunk).await?;
        for log in &page {
            let own: Vec<_> = attachments
                .iter()
                .filter(|a| a.communication_log_id == log.id)
                .collect();
            let mut value = serde_json::to_value(log).map_err(internal)?;
            value["attachments"] = serde_json::to_value(&own).map_err(internal)?;
            archive.add_json(&format!("logs/{}.json", log.id), &value)?;
            for a in own.iter().filter(|a| !a.file_path.is_empty()) {
                match app.blobs.get(&a.file_path).await {
                    Ok(bytes) => {
                        archive.add(&format!("logs/{}/files/{}", log.id, a.id), &bytes)?;
                        files += 1;
                    }
                    Err(crate::blobs::BlobError::NotFound) => missing += 1,
                    Err(e) => return Err(internal(e)),
                }
            }
            logs += 1;
        }
    }
    let entries = app.store.regulator_audit(scope, since, until).await?;
    archive.add_json(
        "audit.json",
        &serde_json::to_value(&entries).map_err(internal)?,
    )?;
    let chain = app.store.verify_audit(Some(scope.company_id())).await?;
    let rfc = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .map_err(internal)
    };
    let counts = json!({"logs": logs, "files": files, "missing_files": missing, "audit_entries": entries.len()});
    let key = signing_key(app)?;
    let manifest = json!({
        "format": "commlog-regulator-export/1",
        "company_id": scope.company_id(),
        "period": {"since": rfc(since)?, "until": rfc(until)?},
        "generated_at": rfc(commlog_domain::time_fmt::now())?,
        "generated_by_user_id": scope.user_id(),
        "counts": counts,
        "audit_chain": chain.first().map(|c| json!({"head_seq": c.head_seq, "intact": c.first_break.is_none()})),
        "signature": {"algorithm": "Ed25519", "public_key": STANDARD.encode(key.public_key().as_ref()), "file": "manifest.sig"},
    });
    let (bytes, manifest_bytes) = archive.finish_signed(manifest, |m| {
        STANDARD.encode(key.sign(m).as_ref()).into_bytes()
    })?;
    app.store
        .record_audit(
            scope,
            "regulator_export",
            "company",
            Some(scope.company_id()),
            counts.clone(),
        )
        .await?;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_bytes).map_err(internal)?;
    Ok((bytes, manifest))
}
