//! Phone numbers in E.164 (`+` and 8–15 digits). Numbers given without a country code are
//! accepted when a default calling code is known; punctuation people type is ignored.

/// Normalises a phone number to E.164, or says why it cannot.
pub fn normalize_e164(input: &str, default_country_code: Option<&str>) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("phone number is empty".into());
    }
    if trimmed.len() > 40 {
        return Err("phone number is too long".into());
    }
    let mut digits = String::new();
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => return Err(format!("phone number contains `{c}`")),
        }
    }
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let Some(cc) = default_country_code else {
            return Err("phone number needs a country code (E.164, e.g. +14155550123)".into());
        };
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        format!("{cc}{national}")
    };
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return Err("phone number must have 8 to 15 digits after the country code prefix".into());
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::normalize_e164;

    #[test]
    fn normalises_common_spellings() {
        assert_eq!(
            normalize_e164("+1 (415) 555-0123", None).as_deref(),
            Ok("+14155550123")
        );
        assert_eq!(
            normalize_e164("0044 20 7946 0958", None).as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(
            normalize_e164("020 7946 0958", Some("44")).as_deref(),
            Ok("+442079460958")
        );
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        assert!(normalize_e164("call me", None).is_err());
        assert!(normalize_e164("+12", None).is_err());
        assert!(normalize_e164("4155550123", None).is_err());
        assert!(normalize_e164("+1234567890123456", None).is_err());
    }
}
