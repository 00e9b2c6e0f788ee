//! Layouts and column-map specs.

use super::*;

#[test]
fn slots_follow_declaration_order() {
    for (i, f) in CdrField::ALL.iter().enumerate() {
        assert_eq!(f.slot(), i);
        assert_eq!(CdrField::from_key(f.key()), Some(*f));
    }
}

#[test]
fn asterisk_variants_require_their_column_count() {
    for (variant, n) in [
        (AsteriskColumns::C16, 16),
        (AsteriskColumns::C17, 17),
        (AsteriskColumns::C18, 18),
        (AsteriskColumns::C21, 21),
    ] {
        let p = CdrProfile::Asterisk(variant);
        let map = p.layout(n).expect("layout");
        assert_eq!(map.get(CdrField::Disposition), Some(14));
        assert_eq!(map.get(CdrField::UniqueId).is_some(), n >= 17);
        assert_eq!(map.get(CdrField::Sequence).is_some(), n == 21);
        let err = p.layout(n + 1).expect_err("count");
        assert_eq!(err, format!("expected {n} columns, found {}", n + 1));
    }
    let auto = CdrProfile::Asterisk(AsteriskColumns::Auto);
    for n in [16, 17, 18, 21] {
        assert!(auto.layout(n).is_ok(), "{n}");
    }
    for n in [0, 15, 19, 20, 22] {
        assert!(auto.layout(n).is_err(), "{n}");
    }
}

#[test]
fn freeswitch_templates() {
    let d = CdrProfile::FreeSwitchDefault.layout(13).expect("default");
    assert_eq!(d.get(CdrField::UniqueId), Some(10));
    assert_eq!(d.get(CdrField::HangupCause), Some(9));
    assert!(CdrProfile::FreeSwitchDefault.layout(15).is_err());
    let a = CdrProfile::FreeSwitchAsterisk.layout(18).expect("compat");
    assert_eq!(a.get(CdrField::HangupCause), Some(14));
    assert_eq!(a.get(CdrField::Disposition), None);
    assert_eq!(
        CdrProfile::FreeSwitchAsterisk.source(),
        CallSource::FreeSwitch
    );
}

#[test]
fn custom_specs_parse() {
    let map: ColumnMap =
        "src=1,dst=2,start=9,answer=10,end=11,billsec=13,disposition=14,uniqueid=16"
            .parse()
            .expect("spec");
    assert_eq!(map.get(CdrField::Src), Some(1));
    assert_eq!(map.get(CdrField::UniqueId), Some(16));
    assert_eq!(map.get(CdrField::Clid), None);
    assert!(map.check_columns(17).is_ok());
    assert_eq!(
        map.check_columns(16),
        Err("expected at least 17 columns, found 16".into())
    );
    let exact: ColumnMap = "pbx=freeswitch, clid=0, dst=1, start=2, uuid=3, columns=5"
        .parse()
        .expect("spec");
    assert_eq!(exact.source(), CallSource::FreeSwitch);
    assert!(exact.check_columns(6).is_err());
    let profile: CdrProfile = "custom:src=0,dst=1,start=2".parse().expect("profile");
    assert!(matches!(profile, CdrProfile::Custom(_)));
}

#[test]
fn bad_specs_say_why() {
    for (spec, why) in [
        ("src=1,dst=2", "`start` must be mapped"),
        ("dst=2,start=3", "`src or clid` must be mapped"),
        ("src=1,dst=2,start=x", "not a column index"),
        ("src=1,dst=2,start=999", "not a column index"),
        ("src=1,dst=2,start=3,colour=4", "not a known field"),
        ("src=1,src=2,dst=2,start=3", "given twice"),
        ("src=1,dst,start=3", "not `key=value`"),
        ("src=1,dst=2,start=9,columns=5", "beyond the declared"),
        ("src=1,dst=2,start=3,pbx=yate", "pbx must be"),
    ] {
        let err = spec.parse::<ColumnMap>().expect_err(spec).to_string();
        assert!(err.contains(why), "{spec}: {err}");
    }
    assert!("x".repeat(2000).parse::<ColumnMap>().is_err());
}

#[test]
fn profile_names_parse() {
    assert_eq!(
        "asterisk".parse::<CdrProfile>().expect("p"),
        CdrProfile::Asterisk(AsteriskColumns::Auto)
    );
    assert_eq!(
        "asterisk-18".parse::<CdrProfile>().expect("p"),
        CdrProfile::Asterisk(AsteriskColumns::C18)
    );
    assert_eq!(
        "freeswitch".parse::<CdrProfile>().expect("p"),
        CdrProfile::FreeSwitchDefault
    );
    assert!("asterisk-19".parse::<CdrProfile>().is_err());
}
