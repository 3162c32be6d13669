//! An instrument as a FHIR R4 `Questionnaire` resource (SPEC C8: the feedback export).

use serde_json::{Value, json};

use super::Instrument;

/// Canonical URLs of Duurloop's FHIR resources.
pub const FHIR_BASE: &str = "https://duurloop.nl/fhir";

impl Instrument {
    /// The instrument as a FHIR R4 `Questionnaire` in `lang` (`"nl"` or `"en"`, falling back
    /// to Dutch per text):
    /// - `id` is the code with `_` as `-` (FHIR ids allow no underscores), `url` is
    ///   `https://duurloop.nl/fhir/Questionnaire/{code}`, `name` the code in capitals;
    /// - the instructions are the `description`, the licence the `copyright`;
    /// - every item is a required `choice` with `linkId` = item code, its options codings in
    ///   the system `https://duurloop.nl/fhir/CodeSystem/{code}-answers` with the stored value
    ///   as code, and the value it scores (after reversal) as the core `ordinalValue`
    ///   extension.
    pub fn to_fhir(&self, lang: &str) -> Value {
        let system = format!("{FHIR_BASE}/CodeSystem/{}-answers", self.code);
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| {
                let options: Vec<Value> = item
                    .options
                    .iter()
                    .map(|option| {
                        let ordinal = item.scored(option.value).unwrap_or(option.value);
                        json!({
                            "valueCoding": {
                                "extension": [{
                                    "url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                                    "valueDecimal": ordinal,
                                }],
                                "system": system,
                                "code": option.value.to_string(),
                                "display": option.text.get(lang),
                            }
                        })
                    })
                    .collect();
                json!({
                    "linkId": item.code,
                    "text": item.text.get(lang),
                    "type": "choice",
                    "required": true,
                    "answerOption": options,
                })
            })
            .collect();
        let mut resource = json!({
            "resourceType": "Questionnaire",
            "id": self.code.replace('_', "-"),
            "url": format!("{FHIR_BASE}/Questionnaire/{}", self.code),
            "version": self.version,
            "name": fhir_name(&self.code),
            "title": self.title.get(lang),
            "status": "active",
            "subjectType": ["Patient"],
            "copyright": self.licence,
            "item": items,
        });
        let intro = self.intro.get(lang);
        if !intro.is_empty()
            && let Some(fields) = resource.as_object_mut()
        {
            fields.insert("description".to_string(), Value::from(intro));
        }
        resource
    }
}

/// A computer-friendly name (FHIR invariant que-0: `[A-Z]([A-Za-z0-9_]){0,254}`).
fn fhir_name(code: &str) -> String {
    let upper = code.to_ascii_uppercase();
    if upper.starts_with(|c: char| c.is_ascii_uppercase()) {
        upper
    } else {
        format!("Q{upper}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn phq9_becomes_a_questionnaire_with_nine_choice_items() {
        let fhir = phq9().to_fhir("nl");
        assert_eq!(fhir["resourceType"], "Questionnaire");
        assert_eq!(fhir["id"], "phq9");
        assert_eq!(fhir["url"], "https://duurloop.nl/fhir/Questionnaire/phq9");
        assert_eq!(fhir["name"], "PHQ9");
        assert_eq!(fhir["status"], "active");
        assert_eq!(fhir["version"], "1");
        assert!(
            fhir["description"]
                .as_str()
                .is_some_and(|d| d.contains("2 weken"))
        );
        let items = fhir["item"].as_array().expect("items");
        assert_eq!(items.len(), 9);
        for (n, item) in items.iter().enumerate() {
            assert_eq!(item["linkId"], format!("phq9_{}", n + 1));
            assert_eq!(item["type"], "choice");
            assert_eq!(item["required"], true);
            let options = item["answerOption"].as_array().expect("options");
            assert_eq!(options.len(), 4);
            for (value, option) in options.iter().enumerate() {
                let coding = &option["valueCoding"];
                assert_eq!(
                    coding["system"],
                    "https://duurloop.nl/fhir/CodeSystem/phq9-answers"
                );
                assert_eq!(coding["code"], value.to_string());
                assert!(coding["display"].as_str().is_some_and(|d| !d.is_empty()));
                assert_eq!(coding["extension"][0]["valueDecimal"], value);
            }
        }
        assert_eq!(
            items[0]["text"],
            "Weinig interesse of plezier in het doen van dingen"
        );
        assert_eq!(
            items[0]["answerOption"][3]["valueCoding"]["display"],
            "Bijna elke dag"
        );
    }

    #[test]
    fn the_english_questionnaire_uses_the_english_texts() {
        let fhir = gad7().to_fhir("en");
        assert_eq!(fhir["item"].as_array().map(Vec::len), Some(7));
        assert_eq!(fhir["item"][3]["text"], "Trouble relaxing");
        assert_eq!(
            fhir["item"][0]["answerOption"][0]["valueCoding"]["display"],
            "Not at all"
        );
        assert_eq!(fhir["title"], "GAD-7 Generalized Anxiety Disorder scale");
    }

    #[test]
    fn reverse_items_carry_their_scored_value_and_ids_have_no_underscores() {
        let scale: Vec<(i64, String)> = (1..=5).map(|v| (v, format!("{v}"))).collect();
        let items = [("Goed".to_string(), true), ("Moe".to_string(), false)];
        let mine = custom("mijn_lijst", "Mijn lijst", &items, &scale, false, None).expect("valid");
        let fhir = mine.to_fhir("nl");
        assert_eq!(fhir["id"], "mijn-lijst");
        assert_eq!(fhir["name"], "MIJN_LIJST");
        let first = &fhir["item"][0]["answerOption"][0]["valueCoding"];
        assert_eq!(first["code"], "1");
        assert_eq!(first["extension"][0]["valueDecimal"], 5);
        let second = &fhir["item"][1]["answerOption"][0]["valueCoding"];
        assert_eq!(second["extension"][0]["valueDecimal"], 1);
        assert_eq!(fhir_name("5dagen"), "Q5DAGEN");
    }

    #[test]
    fn every_builtin_exports_in_both_languages() {
        for instrument in builtin() {
            for lang in ["nl", "en"] {
                let fhir = instrument.to_fhir(lang);
                assert_eq!(fhir["resourceType"], "Questionnaire");
                assert_eq!(
                    fhir["item"].as_array().map(Vec::len),
                    Some(instrument.items.len())
                );
                assert!(fhir["copyright"].as_str().is_some_and(|c| !c.is_empty()));
            }
        }
    }
}
