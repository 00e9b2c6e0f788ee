//! HTML → plain text, for messages that only have an HTML body. The text is extracted, never
//! rendered: scripts, styles and comments are dropped, block elements become line breaks and
//! character references are decoded. Linear in the input, whatever its nesting.

/// The readable text of an HTML document.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A `<` that opens no tag is text.
            push_text(&mut out, rest);
            rest = "";
            break;
        };
        let tag = rest[1..gt].trim().to_ascii_lowercase();
        rest = &rest[gt + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let closing = tag.starts_with('/');
        if !closing && matches!(name.as_str(), "script" | "style" | "head" | "title") {
            // Skip to the matching close tag (case-insensitively); without one, to the end.
            let close = format!("</{name}");
            rest = find_ascii_ci(rest, &close).map_or("", |at| {
                rest[at..].find('>').map_or("", |gt| &rest[at + gt + 1..])
            });
            continue;
        }
        match name.as_str() {
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "blockquote" | "table" | "ul" | "ol" | "hr" | "pre" => newline(&mut out),
            "td" | "th" if !closing => out.push(' '),
            _ => {}
        }
    }
    push_text(&mut out, rest);
    tidy(&out)
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn newline(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_spaced(out, &rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| c == ';' || c == '&' || c.is_whitespace())
            .map(|i| i + 1);
        match end.filter(|e| rest.as_bytes().get(*e) == Some(&b';') && *e <= 12) {
            Some(e) => {
                match entity(&rest[1..e]) {
                    Some(c) => out.push(c),
                    None => out.push_str(&rest[..=e]),
                }
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    push_spaced(out, rest);
}

/// Pushes text with runs of whitespace as one space (HTML ignores source line breaks).
fn push_spaced(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || *c == '\n');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "euro" => '€',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        _ => return None,
    })
}

/// Trims each line and keeps at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn text_comes_out_and_nothing_runs() {
        let html = "<html><head><title>t</title><style>p{color:red}</style></head><body>\
            <p>Hello&nbsp;<b>Ann</b>,</p><p>Price: 5 &lt; 6 &amp; &#8364;7 &#x263A;</p>\
            <SCRIPT>alert(1)</SCRIPT><!-- hidden --><div>Bye<br>Bob</div></body></html>";
        assert_eq!(
            html_to_text(html),
            "Hello Ann,\nPrice: 5 < 6 & €7 ☺\nBye\nBob"
        );
    }

    #[test]
    fn broken_markup_never_loses_the_rest_or_hangs() {
        assert_eq!(html_to_text("a < b and c"), "a < b and c");
        assert_eq!(html_to_text("x &unknown; y &amp"), "x &unknown; y &amp");
        assert_eq!(html_to_text("<script>never closed"), "");
        let deep = "<div>".repeat(100_000) + "deep" + &"</div>".repeat(100_000);
        assert_eq!(html_to_text(&deep), "deep");
    }
}
