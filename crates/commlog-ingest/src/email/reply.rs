//! The new text of a reply: what the sender wrote, without the message it quotes (an
//! attribution line such as "On … wrote:", `>` lines, Outlook's original-message block) or the
//! signature below `-- `.

/// The text a message adds. When nothing is left (a message that only quotes), the whole text.
pub fn new_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        if t.starts_with('>')
            || is_attribution(t)
            || (is_attribution_start(t)
                && next.ends_with(':')
                && is_attribution(&format!("{t} {next}")))
            || is_separator(t)
            || line.trim_end_matches('\r') == "-- "
            || t == "--"
            || is_mobile_signature(t)
        {
            end = i;
            break;
        }
    }
    let new = lines[..end].join("\n").trim().to_owned();
    if new.is_empty() {
        text.trim().to_owned()
    } else {
        new
    }
}

fn is_attribution_start(t: &str) -> bool {
    let lower = t.to_lowercase();
    ["on ", "am ", "le ", "el ", "il ", "op ", "den "]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// "On Tue, 24 Nov 2026, Ann <ann@x.com> wrote:" and its common translations ("Am … schrieb
/// Ann <ann@x.de>:").
fn is_attribution(t: &str) -> bool {
    let lower = t.to_lowercase();
    let verbs = [
        " wrote",
        " schrieb",
        " a écrit",
        " escribió",
        " ha scritto",
        " schreef",
        " skrev",
    ];
    is_attribution_start(t)
        && lower.ends_with(':')
        && verbs.iter().any(|v| lower.contains(v))
        && t.chars().count() <= 300
}

fn is_separator(t: &str) -> bool {
    let lower = t.to_lowercase();
    lower.starts_with("-----original message-----")
        || lower.starts_with("-----ursprüngliche nachricht-----")
        || lower.starts_with("----- forwarded message")
        || lower.starts_with("---------- forwarded message")
        || (t.len() >= 20 && t.chars().all(|c| c == '_'))
}

fn is_mobile_signature(t: &str) -> bool {
    let lower = t.to_lowercase();
    lower.starts_with("sent from my ") && t.chars().count() <= 60
}

#[cfg(test)]
mod tests {
    use super::new_text;

    #[test]
    fn quotes_and_signatures_are_cut() {
        let reply = "Thanks, Friday works.\n\nOn Tue, 24 Nov 2026 at 10:00, Ann <ann@x.com> wrote:\n> Can we meet?\n";
        assert_eq!(new_text(reply), "Thanks, Friday works.");
        let wrapped = "Yes.\nOn Tue, 24 Nov 2026 at 10:00, Ann Example\n<ann@x.com> wrote:\n> hi";
        assert_eq!(new_text(wrapped), "Yes.");
        let outlook = "See attached.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday";
        assert_eq!(new_text(outlook), "See attached.");
        let signed = "Call me back tomorrow.\n-- \nBob Smith\nAcme";
        assert_eq!(new_text(signed), "Call me back tomorrow.");
        let german = "Passt.\n\nAm 24.11.2026 um 10:00 schrieb Ann <ann@x.de>:\n> Termin?";
        assert_eq!(new_text(german), "Passt.");
        assert_eq!(new_text("Ok\n\nSent from my iPhone"), "Ok");
    }

    #[test]
    fn a_message_that_only_quotes_keeps_its_text() {
        assert_eq!(new_text("> quoted only\n> more"), "> quoted only\n> more");
        assert_eq!(
            new_text("Plain message, no quote."),
            "Plain message, no quote."
        );
    }
}
