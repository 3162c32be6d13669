//! Translations. Every user-facing string comes from `locales/{nl,en}/main.ftl`, compiled into
//! the binary. Dutch is the default; keys missing in English fall back to Dutch.

use std::{borrow::Cow, collections::HashMap, sync::LazyLock};

use fluent_templates::{LanguageIdentifier, Loader, fluent_bundle::FluentValue};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "nl",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static NL: LazyLock<LanguageIdentifier> = LazyLock::new(|| "nl".parse().unwrap_or_default());
static EN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "en".parse().unwrap_or_default());

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nl,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().get(..2) {
            Some("nl") => Some(Lang::Nl),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .find_map(|part| Lang::parse(part.split(';').next().unwrap_or_default()))
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }

    /// The text for a key; the key itself if no translation exists (visible, never a panic).
    pub fn t(self, key: &str) -> String {
        LOCALES
            .try_lookup(self.id(), key)
            .unwrap_or_else(|| key.to_string())
    }

    /// The text for a key with named arguments (`{ $name }` in the .ftl file).
    pub fn t_args(self, key: &str, args: &[(&'static str, &str)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| {
                // Whole numbers go in as numbers, so Fluent can choose singular or plural.
                let value = match v.parse::<i64>() {
                    Ok(n) => FluentValue::from(n),
                    Err(_) => FluentValue::from(v.to_string()),
                };
                (Cow::Borrowed(*k), value)
            })
            .collect();
        LOCALES
            .try_lookup_with_args(self.id(), key, &map)
            .unwrap_or_else(|| key.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_is_the_default_and_english_is_available() {
        assert_eq!(Lang::default().t("login-title"), "Inloggen");
        assert_eq!(Lang::En.t("login-title"), "Sign in");
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de-DE"), None);
        assert_eq!(Lang::Nl.t("no-such-key"), "no-such-key");
        assert_eq!(
            Lang::Nl.t_args("free-places", &[("n", "1")]),
            "1 plaats vrij"
        );
        assert_eq!(
            Lang::Nl.t_args("free-places", &[("n", "3")]),
            "3 plaatsen vrij"
        );
        assert_eq!(
            Lang::En.t_args("search-count", &[("n", "1")]),
            "1 result, nearest first."
        );
    }

    #[test]
    fn every_dutch_key_has_an_english_translation_and_vice_versa() {
        let keys = |src: &str| -> Vec<String> {
            src.lines()
                .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
                .filter_map(|l| l.split(" =").next().map(str::to_string))
                .collect()
        };
        let nl = keys(include_str!("../locales/nl/main.ftl"));
        let en = keys(include_str!("../locales/en/main.ftl"));
        let missing_en: Vec<_> = nl.iter().filter(|k| !en.contains(k)).collect();
        let missing_nl: Vec<_> = en.iter().filter(|k| !nl.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in en: {missing_en:?}");
        for (lang, list) in [("nl", &nl), ("en", &en)] {
            let mut seen = std::collections::HashSet::new();
            let dups: Vec<_> = list.iter().filter(|k| !seen.insert(*k)).collect();
            assert!(
                dups.is_empty(),
                "keys defined twice in {lang} (Fluent refuses the file): {dups:?}"
            );
        }
        assert!(missing_nl.is_empty(), "missing in nl: {missing_nl:?}");
        assert!(nl.len() > 50);
    }
}
