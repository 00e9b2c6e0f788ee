//! Customers and contacts: upsert by external reference, addresses normalised (lower-case
//! email, E.164 phone), and logs whose participants match a contact filled in from it.

use crate::fixtures::{company, create, invalid_fields, log};
use crate::harness::TestDb;
use anyhow::Result;
use commlog_domain::filters::PeopleFilter;
use commlog_domain::{ContactInput, CustomerInput};
use serde_json::json;

async fn customers_upsert_by_external_ref(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let input = CustomerInput {
        name: Some("Globex".into()),
        email_domain: Some(Some("@Globex.COM".into())),
        phone: Some(Some("+1 (415) 555-0100".into())),
        external_ref: Some(Some("crm-42".into())),
    };
    let (first, created) = db.upsert_customer(s, &input).await?;
    assert!(created);
    assert_eq!(first.email_domain.as_deref(), Some("globex.com"));
    assert_eq!(first.phone.as_deref(), Some("+14155550100"));

    let renamed = CustomerInput {
        name: Some("Globex Corporation".into()),
        external_ref: Some(Some("crm-42".into())),
        ..Default::default()
    };
    let (second, created) = db.upsert_customer(s, &renamed).await?;
    assert!(!created);
    assert_eq!(second.id, first.id);
    assert_eq!(second.name, "Globex Corporation");
    assert_eq!(second.email_domain.as_deref(), Some("globex.com"));
    assert_eq!(db.get_customer(s, first.id).await?, second);

    let by_ref = PeopleFilter {
        external_ref: Some("crm-42".into()),
        ..Default::default()
    };
    assert_eq!(db.list_customers(s, &by_ref).await?, vec![second.clone()]);
    let by_mail = PeopleFilter {
        email: Some("someone@globex.com".into()),
        ..Default::default()
    };
    assert_eq!(db.list_customers(s, &by_mail).await?.len(), 1);

    let other = company(db, "Other").await?;
    let (theirs, created) = db.upsert_customer(&other.admin, &input).await?;
    assert!(created, "an external_ref is unique per company only");
    assert_ne!(theirs.id, first.id);
    assert_eq!(
        db.list_customers(s, &PeopleFilter::default()).await?.len(),
        1
    );

    let bad_phone = CustomerInput {
        name: Some("Initech".into()),
        phone: Some(Some("call me".into())),
        ..Default::default()
    };
    assert_eq!(
        invalid_fields(db.upsert_customer(s, &bad_phone).await),
        ["phone"]
    );
    let nul = CustomerInput {
        name: Some("Ini\u{0}tech".into()),
        ..Default::default()
    };
    assert_eq!(invalid_fields(db.upsert_customer(s, &nul).await), ["name"]);
    assert_eq!(
        db.list_customers(s, &PeopleFilter::default()).await?.len(),
        1
    );
    Ok(())
}

async fn contacts_are_normalised_and_matched_to_logs(db: &TestDb) -> Result<()> {
    let acme = company(db, "Acme").await?;
    let s = &acme.admin;
    let (customer, _) = db
        .upsert_customer(
            s,
            &CustomerInput {
                name: Some("Globex".into()),
                ..Default::default()
            },
        )
        .await?;
    let ann = db
        .create_contact(
            s,
            &ContactInput {
                customer_id: Some(Some(customer.id)),
                full_name: Some("Ann Smith".into()),
                title: Some(Some("Buyer".into())),
                emails: Some(vec![" Ann@Example.COM ".into(), "ann@example.com".into()]),
                phones: Some(vec!["0044 20 7946 0958".into(), "+1 (415) 555-0123".into()]),
                recording_consent: Some(Some(false)),
                processing_consent: None,
            },
        )
        .await?;
    assert_eq!(ann.emails, ["ann@example.com"]);
    // Consent: recorded as given, changed alone, and kept when a patch does not name it.
    assert_eq!(
        (ann.recording_consent, ann.processing_consent),
        (Some(false), None)
    );
    let agreed = ContactInput {
        processing_consent: Some(Some(true)),
        ..ContactInput::default()
    };
    let changed = db.update_contact(s, ann.id, &agreed).await?;
    assert_eq!(
        (changed.recording_consent, changed.processing_consent),
        (Some(false), Some(true))
    );
    let renamed = ContactInput {
        title: Some(Some("Buyer".into())),
        ..ContactInput::default()
    };
    let kept = db.update_contact(s, ann.id, &renamed).await?;
    assert_eq!(
        (kept.recording_consent, kept.processing_consent),
        (Some(false), Some(true))
    );
    let ann = kept;
    assert_eq!(ann.phones, ["+14155550123", "+442079460958"]);
    assert_eq!(db.get_contact(s, ann.id).await?, ann);
    let by_mail = PeopleFilter {
        email: Some("ANN@example.com".into()),
        ..Default::default()
    };
    assert_eq!(db.list_contacts(s, &by_mail).await?, vec![ann.clone()]);

    let bad = ContactInput {
        full_name: Some("Bad Numbers".into()),
        emails: Some(vec!["ok@example.com".into(), "not-an-email".into()]),
        phones: Some(vec!["call me".into()]),
        ..Default::default()
    };
    let fields = invalid_fields(db.create_contact(s, &bad).await);
    assert_eq!(fields, ["emails[1]", "phones[0]"]);

    let mail = create(
        db,
        s,
        json!({"communication_type": "email", "channel": "email",
               "participants": [{"role": "from", "email": "ANN@Example.com"}]}),
    )
    .await?;
    assert_eq!(mail.contact_id, Some(ann.id));
    assert_eq!(mail.customer_id, Some(customer.id));
    assert_eq!(mail.participants[0].contact_id, Some(ann.id));
    assert_eq!(
        mail.participants[0].email.as_deref(),
        Some("ann@example.com")
    );
    assert_eq!(db.get_log(s, mail.id).await?, mail);

    let call = create(
        db,
        s,
        json!({"participants": [{"role": "caller", "phone": "+1 415-555-0123"}]}),
    )
    .await?;
    assert_eq!(call.participants[0].phone.as_deref(), Some("+14155550123"));
    assert_eq!(call.contact_id, Some(ann.id));
    assert_eq!(call.customer_id, Some(customer.id));

    let admin = db.get_user(s, acme.admin_id).await?;
    let internal = create(
        db,
        s,
        json!({"communication_type": "email", "channel": "email",
               "participants": [{"role": "from", "email": admin.email},
                                {"role": "to", "email": "stranger@example.org"}]}),
    )
    .await?;
    assert_eq!(internal.participants[0].user_id, Some(admin.id));
    assert_eq!(internal.participants[0].contact_id, None);
    assert_eq!(internal.participants[1].contact_id, None);
    assert_eq!(internal.contact_id, None);

    let other = company(db, "Other").await?;
    let theirs = db
        .create_log(
            &other.admin,
            log(json!({"communication_type": "email", "channel": "email",
                       "participants": [{"role": "from", "email": "ann@example.com"}]})),
            None,
        )
        .await?;
    assert_eq!(
        theirs.log.contact_id, None,
        "contacts are matched per company"
    );
    assert_eq!(theirs.log.participants[0].contact_id, None);
    Ok(())
}

conformance!(
    customers_upsert_by_external_ref,
    contacts_are_normalised_and_matched_to_logs,
);
// The same behaviour with encryption at rest on.
conformance!(Encrypted: contacts_are_normalised_and_matched_to_logs);
