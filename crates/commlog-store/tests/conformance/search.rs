//! Full-text search over subject and content: finds rare words in either, follows edits and
//! deletions, stays inside the company, and treats any user text as words, never as syntax.

use crate::fixtures::{company, create, ids, page, patch, set};
use crate::harness::TestDb;
use anyhow::Result;
use serde_json::json;

async fn search_finds_words_in_subject_and_content(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let in_content = create(
        db,
        s,
        json!({"content": "The customer mentioned the zephyrine contract twice."}),
    )
    .await?;
    let in_subject = create(
        db,
        s,
        json!({"subject": "Quarterly kumquat review", "content": "General discussion of the quarter."}),
    )
    .await?;
    let plain = create(
        db,
        s,
        json!({"subject": "Routine call", "content": "Nothing special here at all.",
               "channel": "chat"}),
    )
    .await?;
    let other = company(db, "Other").await?;
    create(
        db,
        &other.admin,
        json!({"content": "Their zephyrine notes."}),
    )
    .await?;

    let search = |q: &str| json!({"search": q});
    assert_eq!(ids(db, s, search("zephyrine")).await?, set([in_content.id]));
    assert_eq!(ids(db, s, search("ZEPHYRINE")).await?, set([in_content.id]));
    assert_eq!(
        ids(db, s, search("\"zephyrine\"")).await?,
        set([in_content.id])
    );
    assert_eq!(ids(db, s, search("kumquat")).await?, set([in_subject.id]));
    assert_eq!(ids(db, s, search("absentword")).await?, set([]));
    assert_eq!(ids(db, s, search("zephyrine kumquat")).await?, set([]));
    let with_filter = json!({"search": "zephyrine", "channel": "chat"});
    assert_eq!(ids(db, s, with_filter).await?, set([]));
    assert_eq!(
        ids(db, s, search("   ")).await?.len(),
        3,
        "blank is no search"
    );

    for hostile in [
        "\"AND OR * :",
        "AND",
        "OR NOT",
        "NEAR(zephyrine",
        "zephyrine*",
        "-zephyrine",
        "subject:kumquat",
        "content : \"",
        "'",
        "\"",
        "^",
        "()",
        "***",
        "\\",
        "%_",
        "a\u{0}b",
        "\u{0}",
        "zéphyrine — «quoted» 日本語",
    ] {
        let p = page(db, s, json!({"search": hostile})).await;
        assert!(p.is_ok(), "search {hostile:?} failed: {:?}", p.err());
    }

    let edit = patch(json!({"content": "Now it is about a quokka sanctuary."}));
    db.update_log(s, plain.id, edit).await?;
    assert_eq!(ids(db, s, search("quokka")).await?, set([plain.id]));
    assert_eq!(ids(db, s, search("special")).await?, set([]));
    let subject = patch(json!({"subject": "Pomelo planning"}));
    db.update_log(s, plain.id, subject).await?;
    assert_eq!(ids(db, s, search("pomelo")).await?, set([plain.id]));
    assert_eq!(ids(db, s, search("routine")).await?, set([]));

    db.delete_log(s, in_content.id).await?;
    assert_eq!(ids(db, s, search("zephyrine")).await?, set([]));
    Ok(())
}

conformance!(search_finds_words_in_subject_and_content);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: search_finds_words_in_subject_and_content);
