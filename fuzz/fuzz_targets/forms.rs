//! Form fields: the parsers of `duurloop-domain` that read what people type or what a form
//! posts (postcode, e-mail address, phone number, names, intake numbers, exertion, password,
//! euro amounts, the screening answers and medical clearance, TOTP secrets and codes, plan
//! week edits, the measurement schedule, every `as_str`/`parse` enum) and `report::csv_escape`,
//! which writes such text to a spreadsheet.
//!
//! The input is read as UTF-8 (invalid bytes become U+FFFD) and split at NUL bytes into at
//! most eight fields. Every single-field parser gets every field; the parsers of several
//! fields get them in order (password and confirmation; clearance by, date and note; a plan
//! week as kind, sessions, minutes or run/walk/repeats, week), and the screen gets every
//! `name=value` field.
//!
//! Nothing may panic; what is accepted is normalised as documented, reads back the same
//! (`parse(display(x)) == x`, serde agrees with `as_str`/`parse`), and `Debug` hides personal
//! data. Several parsers are compared with an independent reading of their documented rules.
#![no_main]

use duurloop_domain::access::{OrgKind, Role};
use duurloop_domain::attendance::{Attendance, is_valid_date};
use duurloop_domain::contact::{
    PhoneNumber, parse_age, parse_heart_rate, parse_height_cm, parse_weight_kg,
};
use duurloop_domain::funding::{EventKind, MAX_CENTS, Service, format_cents, parse_cents};
use duurloop_domain::plan::{
    Interval, RepeatReason, Session, StartLevel, edit_week, generate, parse_exertion,
};
use duurloop_domain::postcode::Postcode;
use duurloop_domain::referral::{
    FundingRoute, Indication, Motivation, OfferingKind, ReferralEvent, ReferralSource,
    ReferralStatus, transition,
};
use duurloop_domain::report::csv_escape;
use duurloop_domain::screening::{Clearance, ScreenAnswers, ScreenQuestion, may_start};
use duurloop_domain::totp::TotpSecret;
use duurloop_domain::{EmailAddress, Invalid, NewPassword, OrgName, PersonName};
use libfuzzer_sys::fuzz_target;
use std::sync::Once;

const MAX_FIELDS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fields: Vec<&str> = text.split('\0').take(MAX_FIELDS).collect();
    for field in &fields {
        check_field(field);
    }
    let field = |i: usize| fields.get(i).copied().unwrap_or_default();
    check_password(field(0), field(1));
    check_password(field(0), field(0));
    check_clearance(field(0), field(1), field(2));
    check_screen(&fields);
    check_week_edit(&fields);
});

/// Everything that reads one field.
fn check_field(f: &str) {
    check_postcode(f);
    check_email(f);
    check_phone(f);
    check_names(f);
    check_intake_numbers(f);
    check_exertion(f);
    check_cents(f);
    check_csv(f);
    check_enums(f);
    check_clearance("Dr. A. de Vries, huisarts", f, "");
    check_totp(f);
    duurloop_fuzz::domain::check_schedule(f);
}

fn key(result: Result<impl Sized, Invalid>) -> Result<(), &'static str> {
    result.map(|_| ()).map_err(|e| e.key)
}

fn postcode_oracle(raw: &str) -> Option<(u16, Option<String>)> {
    let s = raw.trim();
    let digits = s.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    let letters = match s[4..].trim_start().as_bytes() {
        [] => None,
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            let pair = format!(
                "{}{}",
                a.to_ascii_uppercase() as char,
                b.to_ascii_uppercase() as char
            );
            if ["SA", "SD", "SS"].contains(&pair.as_str()) {
                return None;
            }
            Some(pair)
        }
        _ => return None,
    };
    Some((digits.parse().ok()?, letters))
}

fn check_postcode(f: &str) {
    let parsed = Postcode::parse(f);
    assert_eq!(
        parsed
            .as_ref()
            .ok()
            .map(|p| (p.pc4(), p.letters().map(str::to_string))),
        postcode_oracle(f),
        "Postcode::parse({f:?})"
    );
    let p = match parsed {
        Ok(p) => p,
        Err(e) => return assert_eq!(e.key, "invalid-postcode"),
    };
    assert!((1000..=9999).contains(&p.pc4()));
    let shown = p.to_string();
    assert_eq!(
        Postcode::parse(&shown),
        Ok(p),
        "{shown:?} does not read back"
    );
    let json = serde_json::to_string(&p).expect("serialises");
    assert_eq!(serde_json::from_str::<Postcode>(&json).ok(), Some(p));
    let debug = format!("{p:?}");
    match p.letters() {
        Some(_) => assert_eq!(debug, format!("Postcode({} <redacted>)", p.pc4())),
        None => assert_eq!(debug, format!("Postcode({})", p.pc4())),
    }
}

fn check_email(f: &str) {
    let e = match EmailAddress::parse(f) {
        Ok(e) => e,
        Err(e) => return assert_eq!(e.key, "invalid-email"),
    };
    let s = e.as_str();
    assert_eq!(s, f.trim().to_lowercase(), "not trimmed and lower-cased");
    assert!(s.len() <= 254);
    assert!(
        !s.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{s:?}"
    );
    let (local, domain) = s.split_once('@').expect("an @");
    assert!(!local.is_empty() && local.len() <= 64 && !local.contains('<'));
    assert!(
        domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.'),
        "domain {domain:?}"
    );
    assert_eq!(
        EmailAddress::parse(s).as_ref(),
        Ok(&e),
        "{s:?} does not read back"
    );
    assert_eq!(format!("{e:?}"), "EmailAddress(<redacted>)");
}

fn check_phone(f: &str) {
    let p = match PhoneNumber::parse(f) {
        Ok(p) => p,
        Err(e) => return assert_eq!(e.key, "invalid-phone"),
    };
    let e164 = p.as_str();
    let subscriber = e164.strip_prefix("+31").expect("E.164 with +31");
    assert!(
        subscriber.len() == 9
            && subscriber.bytes().all(|b| b.is_ascii_digit())
            && !subscriber.starts_with('0'),
        "{e164:?} from {f:?}"
    );
    // Nothing invented: the typed digits end with the subscriber number.
    let typed: String = f.chars().filter(char::is_ascii_digit).collect();
    assert!(typed.ends_with(subscriber), "{e164:?} from {f:?}");
    let national = p.national();
    assert_eq!(national, format!("0{subscriber}"));
    assert_eq!(PhoneNumber::parse(e164).as_ref(), Ok(&p), "{e164:?}");
    assert_eq!(
        PhoneNumber::parse(&national).as_ref(),
        Ok(&p),
        "{national:?}"
    );
    let json = serde_json::to_string(&p).expect("serialises");
    assert_eq!(
        serde_json::from_str::<PhoneNumber>(&json).ok().as_ref(),
        Some(&p)
    );
    assert_eq!(format!("{p:?}"), "PhoneNumber(<redacted>)");
}

fn check_names(f: &str) {
    let s = f.trim();
    let fine = !s.is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control);
    match PersonName::parse(f) {
        Ok(n) => {
            assert!(fine, "PersonName {f:?}");
            assert_eq!(n.as_str(), s);
            assert_eq!(PersonName::parse(n.as_str()).as_ref(), Ok(&n));
            assert_eq!(format!("{n:?}"), "PersonName(<redacted>)");
        }
        Err(e) => assert!(!fine && e.key == "invalid-name", "{e:?} for {f:?}"),
    }
    match OrgName::parse(f) {
        Ok(n) => {
            assert!(fine, "OrgName {f:?}");
            assert_eq!(n.as_str(), s);
        }
        Err(e) => assert!(!fine && e.key == "invalid-org-name", "{e:?} for {f:?}"),
    }
}

/// Whole numbers of digits only (spaces around), within the documented ranges.
fn check_intake_numbers(f: &str) {
    let s = f.trim();
    let number = (!s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse::<u32>().ok())
        .flatten();
    let expect = |min: u32, max: u32, key: &'static str| {
        number.filter(|n| (min..=max).contains(n)).ok_or(key)
    };
    let got = |r: Result<u16, Invalid>| r.map(u32::from).map_err(|e| e.key);
    assert_eq!(
        got(parse_heart_rate(f)),
        expect(30, 120, "invalid-heart-rate"),
        "{f:?}"
    );
    assert_eq!(
        got(parse_age(f).map(u16::from)),
        expect(16, 100, "invalid-age"),
        "{f:?}"
    );
    assert_eq!(
        got(parse_height_cm(f)),
        expect(100, 230, "invalid-height"),
        "{f:?}"
    );
    assert_eq!(
        got(parse_weight_kg(f)),
        expect(30, 300, "invalid-weight"),
        "{f:?}"
    );
}

fn check_exertion(f: &str) {
    match parse_exertion(f) {
        Ok(e) => {
            assert!(e <= 10, "exertion {e}");
            assert_eq!(f.trim().parse::<u8>(), Ok(e));
            assert_eq!(parse_exertion(&e.to_string()), Ok(e));
        }
        Err(e) => assert_eq!(e.key, "invalid-exertion"),
    }
}

/// `parse_cents` accepts only amounts `0..=MAX_CENTS` written with digits, separators and a
/// euro sign, and reads back whatever `format_cents` shows for them (both languages).
fn check_cents(f: &str) {
    match parse_cents(f) {
        Ok(cents) => {
            assert!((0..=MAX_CENTS).contains(&cents), "{f:?} gave {cents}");
            assert!(
                f.chars().all(|c| c.is_ascii_digit()
                    || matches!(c, '.' | ',' | '€')
                    || c.is_whitespace()),
                "{f:?} accepted"
            );
            check_format_cents(cents);
        }
        Err(e) => assert_eq!(e.key, "invalid-amount"),
    }
    if let Ok(n) = f.trim().parse::<i64>() {
        check_format_cents(n);
        // A whole number of euros.
        let euros = n.checked_mul(100).filter(|c| (0..=MAX_CENTS).contains(c));
        if n >= 0 && f.trim().bytes().all(|b| b.is_ascii_digit()) {
            assert_eq!(parse_cents(f).ok(), euros, "{f:?} euros");
        }
    }
}

fn check_format_cents(cents: i64) {
    for english in [false, true] {
        let shown = format_cents(cents, english);
        let (group, decimal, prefix) = if english {
            (',', '.', "€")
        } else {
            ('.', ',', "€ ")
        };
        let unsigned = shown.strip_prefix('-').unwrap_or(&shown);
        assert_eq!(shown.starts_with('-'), cents < 0, "{shown}");
        let number = unsigned.strip_prefix(prefix).expect("the euro sign");
        let (euros, decimals) = number.rsplit_once(decimal).expect("decimals");
        assert_eq!(decimals, format!("{:02}", cents.unsigned_abs() % 100));
        let mut groups = euros.split(group);
        let first = groups.next().unwrap_or_default();
        assert!((1..=3).contains(&first.len()), "{shown}");
        assert!(groups.all(|g| g.len() == 3), "{shown}");
        let digits: String = euros.chars().filter(|c| *c != group).collect();
        assert_eq!(digits, (cents.unsigned_abs() / 100).to_string(), "{shown}");
        let expected = (0..=MAX_CENTS).contains(&cents).then_some(cents);
        assert_eq!(parse_cents(&shown).ok(), expected, "{shown:?} read back");
    }
}

/// `[+-]?[0-9]+(\.[0-9]+)?`, as `csv_escape` documents a plain number.
fn plain_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(s),
    }
}

/// The field reads back from the CSV (RFC 4180) as itself or, to defuse a formula, with a `'`
/// in front; a cell never starts like a formula unless it is a plain number.
fn check_csv(f: &str) {
    let out = csv_escape(f);
    let cell = match out.strip_prefix('"') {
        Some(quoted) => {
            let inner = quoted
                .strip_suffix('"')
                .expect("a quoted field ends in a quote");
            assert!(
                !inner.replace("\"\"", "").contains('"'),
                "a lone quote inside {out:?}"
            );
            inner.replace("\"\"", "\"")
        }
        None => {
            assert!(
                !out.contains([',', ';', '"', '\t', '\r', '\n']),
                "{out:?} needs quotes"
            );
            out.clone()
        }
    };
    let formula = f.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(f);
    if formula {
        assert_eq!(cell, format!("'{f}"), "{f:?} not defused");
    } else {
        assert_eq!(cell, f, "{f:?} changed");
    }
    assert!(
        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']) || plain_number(&cell),
        "{out:?} starts like a formula"
    );
}

fn looks_like_a_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Every enum stored as text: `parse` takes exactly the `as_str` names, and serde (the JSON
/// API) uses the same names.
macro_rules! check_enums {
    ($f:expr; $($ty:ty),+ $(,)?) => {$({
        let f: &str = $f;
        let parsed = <$ty>::parse(f);
        let named = <$ty>::ALL.iter().copied().find(|v| v.as_str() == f);
        assert_eq!(parsed.as_ref().ok(), named.as_ref(), "{}::parse({f:?})", stringify!($ty));
        if let Err(e) = &parsed {
            assert!(e.key.starts_with("invalid-"), "{}", e.key);
        }
        // Every name is `[a-z_]+` (checked once below), so serde, which matches names
        // exactly, can only disagree on such a field; its error message is costly to build.
        if looks_like_a_name(f) {
            let json = serde_json::Value::String(f.to_string());
            assert_eq!(
                serde_json::from_value::<$ty>(json).ok(),
                named,
                "serde and parse disagree on {f:?} for {}",
                stringify!($ty)
            );
        }
    })+};
    // Once a process: every value's name reads back, by `parse` and by serde.
    ($($ty:ty),+ $(,)?) => {$({
        for v in <$ty>::ALL {
            assert!(looks_like_a_name(v.as_str()), "{}", v.as_str());
            assert_eq!(<$ty>::parse(v.as_str()).ok(), Some(v));
            assert_eq!(serde_json::to_value(v).ok(), Some(serde_json::Value::from(v.as_str())));
        }
    })+};
}

fn check_enums(f: &str) {
    static NAMES: Once = Once::new();
    NAMES.call_once(|| {
        check_enums!(
            Attendance,
            OrgKind,
            Role,
            StartLevel,
            RepeatReason,
            Service,
            EventKind,
            Indication,
            ReferralStatus,
            ReferralEvent,
            FundingRoute,
            ReferralSource,
            Motivation,
            OfferingKind,
            ScreenQuestion,
        );
    });
    check_enums!(f;
        Attendance, OrgKind, Role, StartLevel, RepeatReason, Service, EventKind, Indication,
        ReferralStatus, ReferralEvent, FundingRoute, ReferralSource, Motivation, OfferingKind,
        ScreenQuestion,
    );
    if let Ok(from) = ReferralStatus::parse(f) {
        for event in ReferralEvent::ALL {
            let allowed = from.next_events().contains(&event);
            match transition(from, event) {
                Ok(_) => assert!(allowed),
                Err(e) => {
                    assert!(!allowed);
                    assert_eq!(Invalid::from(e).key, "invalid-transition");
                }
            }
        }
    }
}

fn check_password(raw: &str, confirmation: &str) {
    let n = raw.chars().count();
    let expected = if n < 12 {
        Err("password-too-short")
    } else if n > 128 {
        Err("password-too-long")
    } else if raw != confirmation {
        Err("password-mismatch")
    } else if duurloop_domain::password::is_common(raw, &[]) {
        // The breached/common check (zxcvbn) has no independent oracle; it runs here so any
        // input that makes it panic is found, and it is the last rule to apply.
        Err("password-common")
    } else {
        Ok(())
    };
    let parsed = NewPassword::parse(raw, confirmation, &[]);
    if let Ok(p) = &parsed {
        assert_eq!(p.expose(), raw);
        assert_eq!(format!("{p:?}"), "NewPassword(<redacted>)");
    }
    assert_eq!(key(parsed), expected);
    // With context words (an address and a name made of the input): the length and
    // confirmation rules come first all the same, and nothing panics.
    let with_context = NewPassword::parse(raw, confirmation, &[confirmation, raw]);
    if matches!(
        expected,
        Err("password-too-short" | "password-too-long" | "password-mismatch")
    ) {
        assert_eq!(key(with_context), expected);
    }
}

/// `yyyy-mm-dd`, a real date from 1900 on, by the calendar of `attendance`.
fn date_oracle(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (s.get(0..4), s.get(5..7), s.get(8..10)) else {
        return false;
    };
    let all_digits = [y, m, d]
        .iter()
        .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
        return false;
    };
    all_digits && y >= 1900 && is_valid_date(y, m, d)
}

fn check_clearance(by: &str, date: &str, note: &str) {
    let (by_t, date_t, note_t) = (by.trim(), date.trim(), note.trim());
    let stray = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    let expected =
        if by_t.is_empty() || by_t.chars().count() > 200 || by_t.chars().any(char::is_control) {
            Err("clearance-by-missing")
        } else if !date_oracle(date_t) {
            Err("invalid-date")
        } else if note_t.chars().count() > 2000 || note_t.chars().any(stray) {
            Err("clearance-note-invalid")
        } else {
            Ok(())
        };
    let parsed = Clearance::parse(by, date, note);
    if let Ok(c) = &parsed {
        assert_eq!(
            (c.by.as_str(), c.date.as_str(), c.note.as_str()),
            (by_t, date_t, note_t)
        );
        assert_eq!(Clearance::parse(&c.by, &c.date, &c.note).as_ref(), Ok(c));
        assert_eq!(
            format!("{c:?}"),
            format!(
                "Clearance {{ by: \"<redacted>\", date: {:?}, note: \"<redacted>\" }}",
                c.date
            )
        );
    }
    assert_eq!(key(parsed), expected, "clearance {by:?} {date:?} {note:?}");
}

/// The screen from `name=value` fields, against its documented rules: every question once
/// (or repeated with the same answer), `yes` or `no` with spaces around.
fn check_screen(fields: &[&str]) {
    let pairs: Vec<(&str, &str)> = fields.iter().filter_map(|f| f.split_once('=')).collect();
    let mut expected = Vec::new();
    let mut error = None;
    for question in ScreenQuestion::ALL {
        let given: Vec<&str> = pairs
            .iter()
            .filter(|(name, _)| *name == question.as_str())
            .map(|(_, value)| value.trim())
            .collect();
        let Some(first) = given.first() else {
            error = Some("screen-incomplete");
            break;
        };
        let yes_no = |v: &str| match v {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        match yes_no(first) {
            Some(answer) if given.iter().all(|v| yes_no(v) == Some(answer)) => {
                expected.push((question, answer))
            }
            _ => {
                error = Some("screen-invalid-answer");
                break;
            }
        }
    }
    let parsed = ScreenAnswers::parse(&pairs);
    match (&parsed, error) {
        (Err(e), Some(key)) => assert_eq!(e.key, key),
        (Ok(answers), None) => {
            assert_eq!(answers.answers(), expected.as_slice());
            let flagged: Vec<ScreenQuestion> = expected
                .iter()
                .filter(|(_, y)| *y)
                .map(|(q, _)| *q)
                .collect();
            assert_eq!(answers.flagged(), flagged);
            assert_eq!(answers.is_flagged(), !flagged.is_empty());
            assert_eq!(may_start(answers, None), flagged.is_empty());
            assert_eq!(
                ScreenAnswers::from_answers(answers.answers()).as_ref(),
                Ok(answers)
            );
            assert_eq!(
                format!("{answers:?}"),
                format!(
                    "ScreenAnswers(<redacted>, flagged: {})",
                    !flagged.is_empty()
                )
            );
        }
        (parsed, error) => panic!("screen {pairs:?}: {parsed:?}, expected {error:?}"),
    }
}

fn check_totp(f: &str) {
    if let Some(secret) = TotpSecret::from_base32(f) {
        let written = secret.to_base32();
        assert_eq!(TotpSecret::from_base32(&written).as_ref(), Some(&secret));
        let now = 1_111_111_109;
        let code = secret.code_at(now);
        let step = secret
            .verify(&code, now, None)
            .expect("a fresh code is refused");
        // Usually `now / 30`; a neighbouring step only when its code happens to be the same.
        assert!((step - now / 30).abs() <= 1 && secret.code_at_step(step) == code);
    }
    // The RFC 6238 secret; the field as the code typed.
    let rfc = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
    let code: String = f.chars().filter(|c| !c.is_whitespace()).collect();
    for (now, last) in [
        (59, None),
        (1_111_111_109, Some(1_111_111_109 / 30)),
        (i64::MIN, None),
        (i64::MAX, Some(i64::MAX)),
    ] {
        if let Some(step) = rfc.verify(f, now, last) {
            assert!(
                (step - now.div_euclid(30)).abs() <= 1,
                "step {step} at {now}"
            );
            assert!(last.is_none_or(|l| step > l), "a used step again");
            assert_eq!(rfc.code_at_step(step), code);
        }
    }
}

/// A plan week as the therapist's form gives it: kind, sessions, then the minutes (or run,
/// walk, repeats) and the week number, each a field.
fn check_week_edit(fields: &[&str]) {
    let number = |i: usize| fields.get(i).and_then(|f| f.trim().parse::<u16>().ok());
    let Some(sessions) = number(1) else { return };
    let (session, week) = match fields.first().map(|f| f.trim()) {
        Some("intervals") => {
            let (Some(run_min), Some(walk_min), Some(repeats), Some(week)) =
                (number(2), number(3), number(4), number(5))
            else {
                return;
            };
            let interval = Interval {
                run_min,
                walk_min,
                repeats,
            };
            (Session::Intervals(interval), week)
        }
        Some("continuous") => match (number(2), number(3)) {
            (Some(minutes), Some(week)) => (Session::Continuous { minutes }, week),
            _ => return,
        },
        Some("walk") => match (number(2), number(3)) {
            (Some(minutes), Some(week)) => (Session::Walk { minutes }, week),
            _ => return,
        },
        _ => return,
    };
    let minutes = match session {
        Session::Intervals(i) => {
            (u64::from(i.run_min) + u64::from(i.walk_min)) * u64::from(i.repeats)
        }
        Session::Continuous { minutes } | Session::Walk { minutes } => u64::from(minutes),
    };
    let positive = match session {
        Session::Intervals(i) => i.run_min > 0 && i.walk_min > 0 && i.repeats > 0,
        _ => true,
    };
    let plan = generate(StartLevel::Walker, 12);
    let fits = (1..=4).contains(&sessions)
        && (5..=90).contains(&minutes)
        && positive
        && (1..=plan.weeks.len()).contains(&usize::from(week));
    match edit_week(&plan, week, session, sessions) {
        Ok(edited) => {
            assert!(fits, "week {week}: {sessions} × {session:?} accepted");
            assert_eq!(edited.weeks.len(), plan.weeks.len());
            for (new, old) in edited.weeks.iter().zip(&plan.weeks) {
                if new.number == week {
                    assert_eq!((new.session, new.sessions), (session, sessions));
                } else {
                    assert_eq!(new, old, "another week changed");
                }
            }
        }
        Err(e) => {
            assert!(!fits, "week {week}: {sessions} × {session:?} refused");
            assert_eq!(e.key, "invalid-plan-week");
        }
    }
}
