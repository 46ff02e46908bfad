//! Tests for GoTrue's password strength policy: parsing of its settings and its messages.

use super::*;

fn weak(message: &str, reasons: &[&'static str]) -> Result<(), PasswordRejected> {
    Err(PasswordRejected::Weak(WeakPassword {
        message: message.to_owned(),
        reasons: reasons.to_vec(),
    }))
}

#[test]
fn policy_from_env_values() {
    let p = PasswordPolicy::from_env_values(None, None).unwrap();
    assert_eq!(
        p,
        PasswordPolicy {
            min_length: 6,
            required_characters: vec![]
        }
    );
    assert_eq!(
        PasswordPolicy::from_env_values(Some(""), Some("")).unwrap(),
        p
    );
    assert_eq!(
        PasswordPolicy::from_env_values(Some("4"), None)
            .unwrap()
            .min_length,
        6
    );
    assert_eq!(
        PasswordPolicy::from_env_values(Some("-3"), None)
            .unwrap()
            .min_length,
        6
    );
    assert_eq!(
        PasswordPolicy::from_env_values(Some(" 12 "), None)
            .unwrap()
            .min_length,
        12
    );
    assert_eq!(
        PasswordPolicy::from_env_values(Some("72"), None)
            .unwrap()
            .min_length,
        72
    );
    assert!(PasswordPolicy::from_env_values(Some("73"), None).is_err());
    assert!(PasswordPolicy::from_env_values(Some("six"), None).is_err());

    // GoTrue's decoding examples, plus the chained escape GoTrue mis-splits.
    let groups = |raw: &str| {
        PasswordPolicy::from_env_values(None, Some(raw))
            .unwrap()
            .required_characters
    };
    assert_eq!(groups("a:b:c"), ["a", "b", "c"]);
    assert_eq!(groups("a\\:b:c"), ["a:b", "c"]);
    assert_eq!(groups("a:b\\:c"), ["a", "b:c"]);
    assert_eq!(groups("\\:a:b:c"), [":a", "b", "c"]);
    assert_eq!(groups("a:b:c\\:"), ["a", "b", "c:"]);
    assert_eq!(groups("::\\::"), [":"]);
    assert_eq!(groups(" "), [" "]);
    assert!(groups("").is_empty());
    assert_eq!(groups("a\\b:c"), ["a\\b", "c"]);
    assert_eq!(groups("a\\:b\\:c"), ["a:b:c"]);
}

#[test]
fn policy_checks_and_messages() {
    let basic = PasswordPolicy::default();
    assert_eq!(check_password(&basic, "123456"), Ok(()));
    assert_eq!(
        check_password(&basic, "12345"),
        weak("Password should be at least 6 characters.", &["length"])
    );
    assert_eq!(
        check_password(&basic, ""),
        weak("Password should be at least 6 characters.", &["length"])
    );
    // GoTrue counts bytes: three two-byte characters are long enough.
    assert_eq!(check_password(&basic, "ééé"), Ok(()));

    let abc = PasswordPolicy {
        min_length: 6,
        required_characters: vec!["a".into(), "b".into(), "c".into()],
    };
    let both = "Password should be at least 6 characters. \
                Password should contain at least one character of each: a, b, c.";
    for pw in ["123", "a123", "ab123", "c123"] {
        assert_eq!(
            check_password(&abc, pw),
            weak(both, &["length", "characters"]),
            "{pw}"
        );
    }
    assert_eq!(
        check_password(&abc, "ab123456"),
        weak(
            "Password should contain at least one character of each: a, b, c.",
            &["characters"]
        )
    );
    assert_eq!(check_password(&abc, "abc123"), Ok(()));

    let classes = PasswordPolicy::from_env_values(
        Some("8"),
        Some("abcdefghijklmnopqrstuvwxyz:ABCDEFGHIJKLMNOPQRSTUVWXYZ:0123456789:!@#$%^&*()_+-=[]{};'\\:\"|<>?,./`~"),
    )
    .unwrap();
    assert_eq!(classes.required_characters.len(), 4);
    assert!(classes.required_characters[3].contains(':'));
    assert_eq!(check_password(&classes, "Abcdef1:"), Ok(()));
    let err = check_password(&classes, "abcdef12").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Password should contain at least one character of each: abcdefghijklmnopqrstuvwxyz, \
         ABCDEFGHIJKLMNOPQRSTUVWXYZ, 0123456789, !@#$%^&*()_+-=[]{};':\"|<>?,./`~."
    );

    let long = "A1b!".repeat(18);
    assert_eq!(long.len(), 72);
    assert_eq!(check_password(&classes, &long), Ok(()));
    let too_long = format!("{long}x");
    let err = check_password(&classes, &too_long).unwrap_err();
    assert_eq!(err, PasswordRejected::TooLong { max: 72 });
    assert_eq!(
        err.to_string(),
        "Password cannot be longer than 72 characters"
    );
    // Multi-byte characters count by bytes here too, as in GoTrue.
    assert!(matches!(
        check_password(&basic, &"é".repeat(37)),
        Err(PasswordRejected::TooLong { .. })
    ));
}
