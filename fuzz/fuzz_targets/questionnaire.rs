//! Questionnaires (`duurloop_domain::measure`): definitions read from JSON, answers, scores,
//! bands, reliable change, safety alerts, the FHIR export, the questionnaires a coordinator
//! builds in a form (`custom`) and the measurement schedule.
//!
//! The input is up to four parts separated by NUL bytes:
//! 1. an instrument definition in JSON, as in `crates/duurloop-domain/instruments/`;
//! 2. a coordinator's own questionnaire as the form sends it, six fields separated by 0x1F:
//!    code, title, items (one a line, `(-)` first for a reverse item), scale (`value text` a
//!    line), higher is better (`yes`), cutoff; read the way `app::measure` reads the form;
//! 3. a measurement schedule such as `baseline,week5,end,followup3`;
//! 4. answers (binary, may hold NUL bytes): see [`answers`].
//!
//! Nothing may panic. A definition that parses and passes `Instrument::validate`, and every
//! questionnaire `custom` accepts, goes through [`check_valid`] with the answers of part 4;
//! when the definition does not parse, a built-in instrument (chosen by the first answer
//! byte) does instead, so the answers are fuzzed on every input.
#![no_main]

use std::collections::BTreeMap;

use duurloop_domain::Invalid;
use duurloop_domain::measure::{
    FHIR_BASE, Instrument, Outcome, RELIABLE_Z, Rule, Text, builtin_by_code, change, custom,
};
use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

const BUILTIN: [&str; 3] = ["phq9", "gad7", "who5"];

/// Every key `Instrument::validate` documents (and so `custom`, with two more).
const VALIDATE_KEYS: [&str; 25] = [
    "questionnaire-invalid-code",
    "questionnaire-invalid-version",
    "questionnaire-missing-title",
    "questionnaire-missing-text",
    "questionnaire-text-too-long",
    "questionnaire-no-items",
    "questionnaire-too-many-items",
    "questionnaire-invalid-item-code",
    "questionnaire-duplicate-item",
    "questionnaire-missing-item-text",
    "questionnaire-too-few-options",
    "questionnaire-duplicate-option",
    "questionnaire-option-out-of-range",
    "questionnaire-missing-option-text",
    "questionnaire-invalid-factor",
    "questionnaire-too-many-missing",
    "questionnaire-invalid-band",
    "questionnaire-duplicate-band",
    "questionnaire-bands-overlap",
    "questionnaire-invalid-subscale",
    "questionnaire-duplicate-subscale",
    "questionnaire-unknown-subscale-item",
    "questionnaire-invalid-reliable-change",
    "questionnaire-unknown-safety-item",
    "questionnaire-invalid-safety-rule",
];

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0);
    let definition = parts.next().unwrap_or_default();
    let form = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let schedule = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let answer_bytes = parts.next().unwrap_or_default();

    match serde_json::from_slice::<Instrument>(definition) {
        Ok(instrument) => match instrument.validate() {
            Ok(()) => {
                check_definition(&instrument, answer_bytes);
                check_valid(&instrument, answer_bytes);
            }
            Err(e) => assert_documented(&e, &[]),
        },
        Err(_) => {
            // The definition checks of a built-in would be the same every time (and are unit
            // tests in the crate): only its answers are fuzzed.
            let pick = answer_bytes
                .first()
                .map_or(0, |b| usize::from(*b) % BUILTIN.len());
            let builtin = builtin_by_code(BUILTIN[pick]).expect("built in");
            check_valid(&builtin, answer_bytes.get(1..).unwrap_or_default());
        }
    }
    check_form(&form, answer_bytes);
    duurloop_fuzz::domain::check_schedule(&schedule);
});

fn assert_documented(e: &Invalid, more: &[&str]) {
    assert!(
        VALIDATE_KEYS.contains(&e.key) || more.contains(&e.key),
        "undocumented error key {:?}",
        e.key
    );
}

/// What must hold for the definition itself: it survives being stored, and its FHIR export
/// (in one language a run, picked by the last answer byte) keeps to FHIR's rules.
fn check_definition(instrument: &Instrument, answer_bytes: &[u8]) {
    check_json_round_trip(instrument);
    let lang = ["nl", "en", "en-GB", "de"][answer_bytes.last().map_or(0, |b| usize::from(b % 4))];
    check_fhir(instrument, lang);
}

/// Everything that must hold for an instrument that passed `validate`, with answers.
fn check_valid(instrument: &Instrument, answer_bytes: &[u8]) {
    let (low, high) = (instrument.min_total(), instrument.max_total());
    assert!(
        low.is_finite() && high.is_finite() && low <= high,
        "scale {low}..={high}"
    );

    let mut u = Unstructured::new(answer_bytes);
    let first = answers(instrument, &mut u, false);
    let second = answers(instrument, &mut u, true);
    let mut totals = vec![low, high];
    for given in [&first, &second] {
        totals.extend(check_score(instrument, given));
        check_safety(instrument, given);
    }
    // Every answer at its lowest or highest option: complete, so scored; safety rules need
    // some answers but not all to set them off, so the lowest never does and the highest
    // always does.
    for highest in [false, true] {
        let extreme: BTreeMap<String, i64> = instrument
            .items
            .iter()
            .map(|item| {
                let (min, max) = item.range();
                (item.code.clone(), if highest { max } else { min })
            })
            .collect();
        let score = check_score(instrument, &extreme);
        assert!(score.is_some(), "every item answered, yet not scored");
        let hits = check_safety(instrument, &extreme);
        let expected = if highest { instrument.safety.len() } else { 0 };
        assert_eq!(
            hits, expected,
            "safety hits with every answer at its extreme"
        );
        // The same with one item left open when that is allowed: the one that pulls a
        // prorated total furthest out (the lowest top, or the highest bottom, of the scale).
        if instrument.max_missing > 0 {
            let open = instrument
                .items
                .iter()
                .map(|item| item.range())
                .enumerate()
                .min_by_key(|(_, (min, max))| if highest { *max } else { -*min })
                .map(|(i, _)| &instrument.items[i].code);
            let mut one_open = extreme_scores(instrument, highest);
            one_open.retain(|code, _| Some(code) != open);
            check_score(instrument, &one_open);
        }
    }
    if let Some(rc) = &instrument.reliable_change {
        totals.push(rc.cutoff);
    }
    totals.extend((1..8).map(|k| low + (high - low) * f64::from(k) / 8.0));
    if let Ok(fraction) = u.arbitrary::<u16>() {
        totals.push(low + (high - low) * f64::from(fraction) / f64::from(u16::MAX));
    }
    for &total in &totals {
        check_band(instrument, total);
    }
    for &pre in &totals {
        for &post in &totals {
            check_change(instrument, pre, post);
        }
    }
}

/// Every item answered with the option that scores highest (or lowest) after reversal.
fn extreme_scores(instrument: &Instrument, highest: bool) -> BTreeMap<String, i64> {
    (instrument.items.iter())
        .map(|item| {
            let (min, max) = item.range();
            let top = highest != item.reverse;
            (item.code.clone(), if top { max } else { min })
        })
        .collect()
}

/// A response read from the fuzzer's bytes, one byte per item in order; when the bytes run
/// out every remaining item gets its first option (`last`: its last option), so short inputs
/// give complete responses. A byte below 0xE0 picks an option; 0xE0..=0xEF leaves the item
/// open; 0xF0..=0xF7 answers an arbitrary number; 0xF8..=0xFF answers just past the scale.
/// Then up to three answers to codes that may not be items.
fn answers(instrument: &Instrument, u: &mut Unstructured, last: bool) -> BTreeMap<String, i64> {
    let mut given = BTreeMap::new();
    for item in &instrument.items {
        let (min, max) = item.range();
        let fallback = if last { item.options.len() - 1 } else { 0 };
        // (`Unstructured` gives zeros once it is exhausted, so look first.)
        let byte = if u.is_empty() {
            None
        } else {
            u.arbitrary::<u8>().ok()
        };
        let value = match byte {
            None => Some(item.options[fallback].value),
            Some(b @ 0..0xE0) => Some(item.options[usize::from(b) % item.options.len()].value),
            Some(0xE0..0xF0) => None,
            Some(0xF0..0xF8) => Some(u.arbitrary::<i64>().unwrap_or(min.saturating_sub(1))),
            Some(b) => Some(max.saturating_add(i64::from(b - 0xF7))),
        };
        if let Some(value) = value {
            given.insert(item.code.clone(), value);
        }
    }
    let extra = if u.is_empty() {
        0
    } else {
        u.arbitrary::<u8>().map_or(0, |b| b % 4)
    };
    for _ in 0..extra {
        let code = match u.arbitrary::<u8>().unwrap_or(0) % 3 {
            0 => u.arbitrary::<String>().unwrap_or_default(),
            1 => format!("{}_{}", instrument.code, u.arbitrary::<u8>().unwrap_or(0)),
            _ => instrument.items[0].code.to_uppercase(),
        };
        given.insert(code, u.arbitrary::<i64>().unwrap_or(0));
    }
    given
}

/// An item's scored value, written out from the module rules: `None` when the answer is not
/// an option; reversed as `max + min − answer`.
fn scored(instrument: &Instrument, code: &str, value: i64) -> Option<i64> {
    let item = instrument.items.iter().find(|i| i.code == code)?;
    let min = item.options.iter().map(|o| o.value).min()?;
    let max = item.options.iter().map(|o| o.value).max()?;
    item.options
        .iter()
        .any(|o| o.value == value)
        .then_some(if item.reverse {
            max + min - value
        } else {
            value
        })
}

/// The lowest and highest total over `items` (codes) by `rule`, written out from the module
/// rules.
fn scale_of(instrument: &Instrument, items: &[&str]) -> (f64, f64) {
    let ranges: Vec<(i64, i64)> = items
        .iter()
        .filter_map(|code| instrument.item(code))
        .map(|item| item.range())
        .collect();
    let (low, high) = match instrument.rule {
        Rule::Sum => (
            ranges.iter().map(|r| r.0).sum::<i64>(),
            ranges.iter().map(|r| r.1).sum::<i64>(),
        ),
        Rule::ScaledSum { factor } => (
            ranges.iter().map(|r| r.0).sum::<i64>() * factor,
            ranges.iter().map(|r| r.1).sum::<i64>() * factor,
        ),
        Rule::Mean => (
            ranges.iter().map(|r| r.0).min().unwrap_or(0),
            ranges.iter().map(|r| r.1).max().unwrap_or(0),
        ),
    };
    (low as f64, high as f64)
}

/// `total` is what `given` (scored answers) out of `n` items makes by `rule`: a sum prorated
/// to `n` items (rounded, halves up) and then scaled, or the plain mean.
fn check_aggregate(rule: Rule, given: &[i64], n: usize, total: f64, what: &str) {
    assert!(total.is_finite(), "{what}: total {total}");
    let sum: i128 = given.iter().map(|v| i128::from(*v)).sum();
    let (answered, n) = (given.len() as i128, n as i128);
    let factor = match rule {
        Rule::Mean => {
            assert_eq!(
                total,
                sum as f64 / answered as f64,
                "{what}: mean of {given:?}"
            );
            return;
        }
        Rule::Sum => 1,
        Rule::ScaledSum { factor } => i128::from(factor),
    };
    assert_eq!(total.fract(), 0.0, "{what}: a sum {total} is not whole");
    let scaled = total as i128;
    assert_eq!(
        scaled % factor,
        0,
        "{what}: {total} is not a multiple of {factor}"
    );
    let prorated = scaled / factor;
    if answered == n {
        assert_eq!(prorated, sum, "{what}: sum of {given:?}");
    } else {
        // sum × n / answered − ½ < prorated ≤ sum × n / answered + ½
        let (twice, target) = (2 * prorated * answered, 2 * sum * n);
        assert!(
            target - answered < twice && twice <= target + answered,
            "{what}: {given:?} prorated to {n} items gave {prorated}"
        );
    }
}

/// `check_answer` and `score` against the module rules; the total when scored.
fn check_score(instrument: &Instrument, given: &BTreeMap<String, i64>) -> Option<f64> {
    for (code, value) in given {
        let expected = match instrument.item(code) {
            None => Err(Invalid::new("questionnaire-unknown-item")),
            Some(_) if scored(instrument, code, *value).is_none() => {
                Err(Invalid::new("questionnaire-invalid-answer"))
            }
            Some(_) => Ok(()),
        };
        assert_eq!(
            instrument.check_answer(code, *value),
            expected,
            "{code} = {value}"
        );
    }
    let scores: Vec<Option<i64>> = instrument
        .items
        .iter()
        .map(|item| {
            given
                .get(&item.code)
                .and_then(|v| scored(instrument, &item.code, *v))
        })
        .collect();
    let missing: Vec<String> = (instrument.items.iter().zip(&scores))
        .filter(|(_, s)| s.is_none())
        .map(|(item, _)| item.code.clone())
        .collect();
    let answered: Vec<i64> = scores.iter().flatten().copied().collect();
    let score = match instrument.score(given) {
        Err(incomplete) => {
            assert_eq!(incomplete.missing, missing, "the missing items");
            assert!(
                missing.len() > usize::from(instrument.max_missing),
                "{} missing of {} allowed, yet not scored",
                missing.len(),
                instrument.max_missing
            );
            return None;
        }
        Ok(score) => score,
    };
    assert!(
        missing.len() <= usize::from(instrument.max_missing),
        "scored with {} missing, {} allowed",
        missing.len(),
        instrument.max_missing
    );
    assert_eq!(score.answered, answered.len());
    assert_eq!(score.prorated, !missing.is_empty());
    assert_eq!(score.raw, answered.iter().sum::<i64>(), "raw sum");
    let total = score.total;
    check_aggregate(
        instrument.rule,
        &answered,
        instrument.items.len(),
        total,
        "total",
    );
    let (low, high) = (instrument.min_total(), instrument.max_total());
    assert!(
        low <= total && total <= high,
        "total {total} outside the scale {low}..={high} ({} answered of {})",
        answered.len(),
        instrument.items.len()
    );
    assert_eq!(
        score.band.as_deref(),
        instrument.band(total).map(|b| b.code.as_str()),
        "the band of {total}"
    );

    // Subscales, in order, by the same rule over their own items; left out when none of
    // their items is answered.
    let mut shown = score.subscales.iter();
    for sub in &instrument.subscales {
        let own: Vec<i64> = (instrument.items.iter().zip(&scores))
            .filter(|(item, _)| sub.items.contains(&item.code))
            .filter_map(|(_, s)| *s)
            .collect();
        if own.is_empty() {
            continue;
        }
        let (code, value) = shown.next().expect("an answered subscale is left out");
        assert_eq!(code, &sub.code, "subscale order");
        let what = format!("subscale {code}");
        check_aggregate(instrument.rule, &own, sub.items.len(), *value, &what);
        let items: Vec<&str> = sub.items.iter().map(String::as_str).collect();
        let (low, high) = scale_of(instrument, &items);
        assert!(
            low <= *value && *value <= high,
            "{what}: {value} outside its scale {low}..={high}"
        );
    }
    assert!(
        shown.next().is_none(),
        "a subscale without answers is shown"
    );
    Some(total)
}

/// `safety_hits` sets off exactly the rules whose item was answered (as given, not reversed)
/// at or above `min_value`, in the order of the rules; returns how many.
fn check_safety(instrument: &Instrument, given: &BTreeMap<String, i64>) -> usize {
    let hits = instrument.safety_hits(given);
    let expected: Vec<_> = instrument
        .safety
        .iter()
        .filter(|rule| given.get(&rule.item).is_some_and(|v| *v >= rule.min_value))
        .collect();
    assert_eq!(hits, expected, "safety hits");
    hits.len()
}

/// At most one band holds a total (validated bands do not overlap), and `band` finds it.
fn check_band(instrument: &Instrument, total: f64) {
    let holding: Vec<&str> = instrument
        .bands
        .iter()
        .filter(|b| b.min <= total && total <= b.max)
        .map(|b| b.code.as_str())
        .collect();
    assert!(holding.len() <= 1, "{total} is in the bands {holding:?}");
    assert_eq!(
        instrument.band(total).map(|b| b.code.as_str()),
        holding.first().copied(),
        "band of {total}"
    );
}

/// Reliable change (Jacobson & Truax) between two totals on the scale, by the rules of
/// `measure/change.rs`.
fn check_change(instrument: &Instrument, pre: f64, post: f64) {
    let c = change(instrument, pre, post);
    let Some(rc) = &instrument.reliable_change else {
        assert_eq!(c, None, "a change without reliable-change parameters");
        assert_eq!(instrument.is_clinical(pre), None);
        return;
    };
    let c = c.expect("reliable-change parameters, so a change");
    let clinical = |total: f64| {
        if instrument.higher_is_better {
            total <= rc.cutoff
        } else {
            total >= rc.cutoff
        }
    };
    assert_eq!(instrument.is_clinical(pre), Some(clinical(pre)));
    assert_eq!(c.difference, post - pre);
    assert!(
        !c.rci.is_nan(),
        "RCI is NaN for {pre} → {post} (sd {}, reliability {})",
        rc.sd,
        rc.reliability
    );
    assert_eq!(
        c.reliable,
        c.rci.abs() > RELIABLE_Z,
        "reliable, RCI {}",
        c.rci
    );
    if pre != post && c.rci != 0.0 {
        assert_eq!(c.rci > 0.0, post > pre, "RCI {} for {pre} → {post}", c.rci);
    }
    let better = if instrument.higher_is_better {
        c.rci > 0.0
    } else {
        c.rci < 0.0
    };
    let crossed = clinical(pre) && !clinical(post);
    assert_eq!(c.crossed_cutoff, crossed);
    let expected = match (c.reliable, better) {
        (false, _) => Outcome::Unchanged,
        (true, false) => Outcome::Deteriorated,
        (true, true) if crossed => Outcome::Recovered,
        (true, true) => Outcome::Improved,
    };
    assert_eq!(c.outcome, expected, "{pre} → {post}: {c:?}");
    let back = change(instrument, post, pre).expect("parameters");
    assert_eq!(back.rci, -c.rci, "the RCI is not antisymmetric");
}

/// Serialised (as the app stores its own questionnaires) and read back: the same instrument,
/// still valid.
///
/// Except for the last bits of a float: serde_json without its `float_roundtrip` feature
/// (which the workspace does not enable) reads some floats one or two units in the last place
/// off what it wrote; with serde_json 1.0.154 about 30 % of random `f64` values, all of them far
/// from the round numbers of real band edges and norms (`5.7`, `0.89`, `10` read back exactly).
/// So floats must come back within 4 ULP, everything else exactly, and validity is required
/// when nothing moved.
fn check_json_round_trip(instrument: &Instrument) {
    let json = serde_json::to_string(instrument).expect("an instrument serialises");
    let back: Instrument = serde_json::from_str(&json).expect("a serialised instrument parses");
    if &back == instrument {
        assert_eq!(back.validate(), Ok(()), "valid only until stored: {json}");
        return;
    }
    let floats = |i: &Instrument| {
        let mut all: Vec<f64> = i.bands.iter().flat_map(|b| [b.min, b.max]).collect();
        if let Some(rc) = &i.reliable_change {
            all.extend([rc.sd, rc.reliability, rc.cutoff]);
        }
        all
    };
    let (written, read) = (floats(instrument), floats(&back));
    assert_eq!(written.len(), read.len(), "JSON round trip of {json}");
    for (a, b) in written.iter().zip(&read) {
        let ulps = a.to_bits().abs_diff(b.to_bits());
        assert!(
            a == b || (a.signum() == b.signum() && ulps <= 4),
            "{a:e} read back as {b:e} from {json}"
        );
    }
    let mut moved = back.clone();
    for (band, original) in moved.bands.iter_mut().zip(&instrument.bands) {
        (band.min, band.max) = (original.min, original.max);
    }
    if let (Some(rc), Some(original)) = (&mut moved.reliable_change, &instrument.reliable_change) {
        (rc.sd, rc.reliability, rc.cutoff) = (original.sd, original.reliability, original.cutoff);
    }
    assert_eq!(&moved, instrument, "JSON round trip of {json}");
}

/// The FHIR R4 `Questionnaire` in `lang`: its ids and names keep to FHIR's rules and it says
/// what the instrument says.
fn check_fhir(instrument: &Instrument, lang: &str) {
    let f = instrument.to_fhir(lang);
    assert_eq!(f["resourceType"], "Questionnaire");
    let id = f["id"].as_str().expect("an id");
    assert!(
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
        "FHIR id {id:?}"
    );
    let name = f["name"].as_str().expect("a name");
    assert!(
        name.len() <= 255
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "FHIR name {name:?} (que-0)"
    );
    assert_eq!(
        f["url"],
        format!("{FHIR_BASE}/Questionnaire/{}", instrument.code)
    );
    assert_eq!(f["version"], instrument.version);
    assert_eq!(f["title"], instrument.title.get(lang));
    assert_eq!(f["copyright"], instrument.licence);
    let intro = instrument.intro.get(lang);
    match f.get("description") {
        Some(d) => assert!(
            !intro.is_empty() && d.as_str() == Some(intro),
            "description {d}"
        ),
        None => assert!(intro.is_empty(), "the instructions are left out"),
    }
    let items = f["item"].as_array().expect("items");
    assert_eq!(items.len(), instrument.items.len());
    let system = format!("{FHIR_BASE}/CodeSystem/{}-answers", instrument.code);
    for (fhir, item) in items.iter().zip(&instrument.items) {
        assert_eq!(fhir["linkId"], item.code);
        assert_eq!(fhir["text"], item.text.get(lang));
        assert_eq!(fhir["type"], "choice");
        assert_eq!(fhir["required"], true);
        let options = fhir["answerOption"].as_array().expect("options");
        assert_eq!(options.len(), item.options.len());
        for (fhir, option) in options.iter().zip(&item.options) {
            let coding = &fhir["valueCoding"];
            assert_eq!(coding["system"], system);
            assert_eq!(coding["code"], option.value.to_string());
            assert_eq!(coding["display"], option.text.get(lang));
            let ordinal = scored(instrument, &item.code, option.value).expect("an option");
            assert_eq!(coding["extension"][0]["valueDecimal"], ordinal);
        }
    }
}

/// The "own questionnaire" form (part 2), read like `app::measure::create_questionnaire` reads
/// it, except that a scale line without a number is skipped rather than refused (so more
/// inputs reach `custom`) and an unreadable cutoff is none.
fn check_form(form: &str, answer_bytes: &[u8]) {
    let mut fields = form.split('\u{1f}');
    let mut next = || fields.next().unwrap_or_default();
    let (code, title, items, scale, higher, cutoff) =
        (next(), next(), next(), next(), next(), next());
    let items: Vec<(String, bool)> = items
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.strip_prefix("(-)") {
            Some(rest) => (rest.trim().to_string(), true),
            None => (l.to_string(), false),
        })
        .collect();
    let scale: Vec<(i64, String)> = scale
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|line| {
            let (value, text) = line.split_once(' ').unwrap_or((line, ""));
            Some((value.parse::<i64>().ok()?, text.trim().to_string()))
        })
        .collect();
    let higher = matches!(higher.trim(), "yes" | "ja" | "on" | "true");
    let cutoff = match cutoff.trim() {
        "" => None,
        s => s.replace(',', ".").parse::<f64>().ok(),
    };
    check_custom(
        code,
        title.trim(),
        &items,
        &scale,
        higher,
        cutoff,
        answer_bytes,
    );
}

/// `custom` against its documentation; what it accepts goes through [`check_valid`].
fn check_custom(
    code: &str,
    title: &str,
    items: &[(String, bool)],
    scale: &[(i64, String)],
    higher: bool,
    cutoff: Option<f64>,
    answer_bytes: &[u8],
) {
    let result = custom(code, title, items, scale, higher, cutoff);
    assert_eq!(
        custom(code, title, items, scale, higher, cutoff),
        result,
        "not deterministic"
    );
    let taken = builtin_by_code(code).is_some();
    let instrument = match result {
        Err(e) => {
            assert_documented(
                &e,
                &["questionnaire-code-taken", "questionnaire-invalid-cutoff"],
            );
            if taken {
                assert_eq!(e.key, "questionnaire-code-taken");
            }
            if cutoff.is_some() && e.key != "questionnaire-invalid-cutoff" {
                // Without the cutoff the same error: the cutoff is looked at last.
                assert_eq!(
                    custom(code, title, items, scale, higher, None).map(|_| ()),
                    Err(e.clone()),
                    "the cutoff changed another error"
                );
            }
            if let (Some(c), Ok(plain)) = (cutoff, custom(code, title, items, scale, higher, None))
            {
                assert_eq!(e.key, "questionnaire-invalid-cutoff");
                assert!(
                    !cutoff_fits(&plain, c),
                    "cutoff {c} on {}..={} refused",
                    plain.min_total(),
                    plain.max_total()
                );
            }
            return;
        }
        Ok(instrument) => instrument,
    };
    assert!(!taken, "a built-in code was taken: {code}");
    assert_eq!(instrument.validate(), Ok(()));
    assert_eq!(instrument.code, code);
    assert_eq!(instrument.version, "1");
    assert_eq!(instrument.title, Text::new(title.trim(), title.trim()));
    assert_eq!(instrument.rule, Rule::Sum);
    assert_eq!(instrument.max_missing, 0);
    assert_eq!(instrument.higher_is_better, higher);
    assert!(instrument.subscales.is_empty() && instrument.safety.is_empty());
    assert_eq!(instrument.reliable_change, None);
    assert_eq!(instrument.items.len(), items.len());
    for (n, (item, (text, reverse))) in instrument.items.iter().zip(items).enumerate() {
        assert_eq!(item.code, format!("{code}_{}", n + 1));
        assert_eq!(item.text, Text::new(text.trim(), text.trim()));
        assert_eq!(item.reverse, *reverse);
        let options: Vec<(i64, &str)> = item
            .options
            .iter()
            .map(|o| {
                assert_eq!(o.text.nl, o.text.en);
                (o.value, o.text.nl.as_str())
            })
            .collect();
        let typed: Vec<(i64, &str)> = scale.iter().map(|(v, t)| (*v, t.trim())).collect();
        assert_eq!(options, typed, "the options of {}", item.code);
    }
    match cutoff {
        None => assert!(instrument.bands.is_empty()),
        Some(c) => {
            assert!(cutoff_fits(&instrument, c), "cutoff {c} accepted");
            check_cutoff_bands(&instrument, c);
        }
    }
    check_definition(&instrument, answer_bytes);
    check_valid(&instrument, answer_bytes);
}

/// Whether `cutoff` leaves both bands non-empty, whole totals assumed (`custom`'s docs): when
/// lower is better the clinical band is `ceil(cutoff)..=max`, so `min < cutoff <= max`; when
/// higher is better it is `min..=floor(cutoff)`, so `min <= cutoff < max`.
fn cutoff_fits(instrument: &Instrument, cutoff: f64) -> bool {
    let (low, high) = (instrument.min_total(), instrument.max_total());
    if instrument.higher_is_better {
        low <= cutoff && cutoff < high
    } else {
        low < cutoff && cutoff <= high
    }
}

/// Two bands split the whole totals at the cutoff, the clinical one on the documented side.
fn check_cutoff_bands(instrument: &Instrument, cutoff: f64) {
    assert_eq!(instrument.bands.len(), 2, "{:?}", instrument.bands);
    let (low, high) = (instrument.min_total(), instrument.max_total());
    let edges = [
        low,
        high,
        cutoff.floor() - 1.0,
        cutoff.floor(),
        cutoff.ceil(),
        cutoff.ceil() + 1.0,
    ];
    for total in edges.into_iter().filter(|t| low <= *t && *t <= high) {
        let band = instrument
            .band(total)
            .expect("every whole total is in a band");
        let clinical = if instrument.higher_is_better {
            total <= cutoff
        } else {
            total >= cutoff
        };
        assert_eq!(band.clinical, clinical, "total {total}, cutoff {cutoff}");
        assert_eq!(
            band.code,
            if clinical { "clinical" } else { "non_clinical" }
        );
    }
}
