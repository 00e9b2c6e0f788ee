//! Removes what a sender did not write in this message — quoted replies and forwarded
//! history — and the signature, so that tone and topics reflect the new text only.

/// Phrases that close a mail when they stand on their own line.
const SIGN_OFFS: &[&str] = &[
    "thanks",
    "thank you",
    "many thanks",
    "thanks again",
    "thanks in advance",
    "thx",
    "best",
    "best regards",
    "best wishes",
    "regards",
    "kind regards",
    "warm regards",
    "warmest regards",
    "with regards",
    "cheers",
    "sincerely",
    "yours sincerely",
    "yours truly",
    "yours faithfully",
    "all the best",
    "talk soon",
    "br",
    "cordially",
    "respectfully",
    "take care",
];

/// Lines after a sign-off that still count as the signature block (name, title, company,
/// phone); a longer tail means the sign-off was not the end of the message.
const MAX_SIGNATURE_LINES: usize = 6;
/// Longer lines are prose, not a signature.
const MAX_SIGNATURE_LINE_CHARS: usize = 72;

/// Returns `text` without quoted reply blocks and without its signature.
///
/// Dropped: lines starting with `>`; everything from a reply header on (`On … wrote:`,
/// also wrapped over two lines, `-----Original Message-----`, an Outlook `From:` header block
/// followed by `Sent:`/`Date:`/`To:`/`Subject:`, a line of underscores); everything from a
/// signature delimiter (`-- `) or a mobile footer ("Sent from my …"); and a final sign-off
/// line ("Best regards,") with the short name block after it.
pub fn strip_quoted_and_signature(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_reply_header(&lines, i) || is_signature_delimiter(line) || is_mobile_footer(trimmed) {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    // Only a sign-off followed by a short block to the end counts; search from the end so
    // that "Thanks," in the middle of a message survives.
    let last_content = kept.iter().rposition(|l| !l.trim().is_empty());
    if let Some(last) = last_content {
        let window_start = last.saturating_sub(MAX_SIGNATURE_LINES);
        let sign_off = (window_start..=last).find(|&i| {
            is_sign_off(kept[i])
                && kept[i + 1..=last]
                    .iter()
                    .all(|l| l.trim().chars().count() <= MAX_SIGNATURE_LINE_CHARS)
        });
        // A message that is nothing but "Thanks!" keeps it: then it is the content.
        let has_body = |i: usize| kept[..i].iter().any(|l| !l.trim().is_empty());
        if let Some(i) = sign_off.filter(|&i| has_body(i)) {
            kept.truncate(i);
        } else {
            kept.truncate(last + 1);
        }
    }
    let joined = kept.join("\n");
    joined.trim().to_owned()
}

fn is_sign_off(line: &str) -> bool {
    let cleaned = line
        .trim()
        .trim_end_matches([',', '!', '.', ' '])
        .to_lowercase();
    SIGN_OFFS.contains(&cleaned.as_str())
}

fn is_signature_delimiter(line: &str) -> bool {
    let l = line.trim_end_matches('\r');
    l == "-- " || l == "--" || l == "—" || l.trim() == "__"
}

fn is_mobile_footer(trimmed: &str) -> bool {
    let lower = trimmed.to_lowercase();
    lower.starts_with("sent from my ") || lower.starts_with("get outlook for ")
}

/// Whether line `i` starts quoted history.
fn is_reply_header(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_lowercase();
    if lower.contains("original message") && lower.starts_with("---") {
        return true;
    }
    if lower.starts_with("---") && lower.contains("forwarded message") {
        return true;
    }
    if lower.starts_with("begin forwarded message") {
        return true;
    }
    if line.len() >= 10 && line.chars().all(|c| c == '_') {
        return true;
    }
    // "On Tue, 3 Mar 2026 at 10:00, Ann <ann@example.com> wrote:", possibly wrapped.
    if lower.starts_with("on ") {
        if lower.ends_with("wrote:") {
            return true;
        }
        if let Some(next) = lines.get(i + 1)
            && next.trim().to_lowercase().ends_with("wrote:")
            && line.chars().count() < 120
        {
            return true;
        }
    }
    // Other languages' clients: "Am … schrieb …:", "Le … a écrit :".
    if (lower.starts_with("am ") && lower.contains("schrieb") && lower.ends_with(':'))
        || (lower.starts_with("le ") && lower.contains("a écrit"))
    {
        return true;
    }
    // Outlook: "From: …" followed within a few lines by "Sent:"/"Date:" and "To:"/"Subject:".
    if lower.starts_with("from:") {
        let window = lines
            .iter()
            .skip(i + 1)
            .take(4)
            .map(|l| l.trim().to_lowercase());
        let (mut when, mut whom) = (false, false);
        for l in window {
            when |= l.starts_with("sent:") || l.starts_with("date:");
            whom |= l.starts_with("to:") || l.starts_with("subject:");
        }
        return when && whom;
    }
    false
}
