//! Follow-up commitments with a fixed clock, including daylight-saving changes.

use chrono_tz::Tz;
use commlog_analysis::followup::extract;
use time::OffsetDateTime;
use time::macros::datetime;

const NY: Tz = chrono_tz::America::New_York;

/// Wednesday 4 March 2026, 10:00 in New York (EST, UTC−5).
const NOW: OffsetDateTime = datetime!(2026-03-04 10:00 -5);

fn due(text: &str, now: OffsetDateTime, tz: Tz) -> Option<OffsetDateTime> {
    extract(text, now, tz).map(|f| f.due)
}

#[test]
fn resolves_common_commitments() {
    let cases = [
        (
            "Please call me back tomorrow.",
            datetime!(2026-03-05 09:00 -5),
        ),
        (
            "I'll send the contract by Friday.",
            datetime!(2026-03-06 09:00 -5),
        ),
        ("Let's talk in two weeks.", datetime!(2026-03-18 09:00 -4)),
        (
            "We will follow up next Monday.",
            datetime!(2026-03-09 09:00 -4),
        ),
        (
            "I'll get back to you on 3 March.",
            datetime!(2027-03-03 09:00 -5),
        ),
        (
            "I'll get back to you on 13 March.",
            datetime!(2026-03-13 09:00 -4),
        ),
        (
            "I'll get back to you on March 20th, 2026.",
            datetime!(2026-03-20 09:00 -4),
        ),
        ("Can you confirm in 3 days?", datetime!(2026-03-07 09:00 -5)),
        (
            "Please send it by the end of the week.",
            datetime!(2026-03-06 17:00 -5),
        ),
        ("Let's meet next month.", datetime!(2026-04-01 09:00 -4)),
        (
            "Call me tomorrow afternoon at 3pm.",
            datetime!(2026-03-05 15:00 -5),
        ),
        (
            "Call me tomorrow afternoon.",
            datetime!(2026-03-05 14:00 -5),
        ),
        (
            "I'll call you back in 2 hours.",
            datetime!(2026-03-04 12:00 -5),
        ),
        (
            "Let's touch base next week.",
            datetime!(2026-03-09 09:00 -4),
        ),
        ("See you next week!", datetime!(2026-03-09 09:00 -4)),
        (
            "Can you call me at 4:30 pm?",
            datetime!(2026-03-04 16:30 -5),
        ),
        ("Please call me at 8am.", datetime!(2026-03-05 08:00 -5)),
        (
            "I'll email the quote this Wednesday.",
            datetime!(2026-03-04 10:00 -5),
        ),
        (
            "We'll review it by end of month.",
            datetime!(2026-03-31 17:00 -4),
        ),
        ("Please ring me back at 2.", datetime!(2026-03-04 14:00 -5)),
    ];
    for (text, expected) in cases {
        assert_eq!(due(text, NOW, NY), Some(expected), "{text}");
    }
    let f = extract(
        "Thanks for your time. I'll send the contract by Friday. Bye.",
        NOW,
        NY,
    );
    assert_eq!(
        f.map(|f| f.phrase),
        Some("I'll send the contract by Friday.".to_owned())
    );
}

#[test]
fn ignores_past_events_and_statements() {
    for text in [
        "I called yesterday.",
        "We met last Friday.",
        "The meeting was on Monday.",
        "I sent it on 3 March.",
        "We talked about pricing.",
        "The invoice from last week is paid.",
        "",
    ] {
        assert_eq!(due(text, NOW, NY), None, "{text}");
    }
}

#[test]
fn keeps_local_time_across_daylight_saving_changes() {
    // Saturday 7 March 2026; New York moves to EDT (UTC−4) on Sunday 8 March at 02:00.
    let sat = datetime!(2026-03-07 10:00 -5);
    let d = due("Call me back tomorrow.", sat, NY);
    assert_eq!(d, Some(datetime!(2026-03-08 09:00 -4)));
    assert_eq!(d.map(|d| d.offset().whole_hours()), Some(-4));
    // 02:30 does not exist that night: the due time moves past the gap.
    assert_eq!(
        due("Call me tomorrow at 2:30 am.", sat, NY),
        Some(datetime!(2026-03-08 03:30 -4))
    );
    // "In 1 day" is the next calendar day at 09:00 local, not 24 hours later.
    assert_eq!(
        due("I'll call you in 1 day.", sat, NY),
        Some(datetime!(2026-03-08 09:00 -4))
    );
    // Autumn: 1 November 2026 01:30 happens twice; the earlier (EDT) one is taken.
    let oct = datetime!(2026-10-31 12:00 -4);
    assert_eq!(
        due("Call me tomorrow at 1:30 am.", oct, NY),
        Some(datetime!(2026-11-01 01:30 -4))
    );
    // Berlin switches on 29 March 2026.
    let berlin = chrono_tz::Europe::Berlin;
    let fri = datetime!(2026-03-27 16:00 +1);
    assert_eq!(
        due("Wir melden uns... I'll follow up on Monday.", fri, berlin),
        Some(datetime!(2026-03-30 09:00 +2))
    );
}
