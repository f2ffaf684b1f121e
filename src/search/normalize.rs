//! Identifier normalization shared by document building and querying.
//!
//! Staff type identifiers however they like (`MUG-BLUE`, `+48 600 100 200`,
//! `Kraków`); documents and queries both pass through these functions so the
//! two sides always meet on the same canonical form.

/// Canonical SKU: lower-case, only ASCII alphanumerics kept, so separators and
/// case do not matter: `"MUG-BLUE"`, `"mug blue"` and `"Mug_Blue"` all become
/// `"mugblue"`. Latin diacritics are folded first (see [`fold`]) so that a
/// letter such as `ó` survives as `o` instead of vanishing.
pub fn sku(text: &str) -> String {
    fold(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// Only the ASCII digits of a phone number, whatever its formatting:
/// `"+48 600 100 200"` → `"48600100200"`.
pub fn phone_digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Splits an email address into its lower-cased `(local, domain)` parts:
/// `"Jane.Doe@Example.com"` → `("jane.doe", "example.com")`.
///
/// Surrounding whitespace is ignored. `None` when there is no `@`, either part
/// is empty, or either part contains whitespace. The split is at the last `@`,
/// since a domain never contains one.
pub fn email_parts(email: &str) -> Option<(String, String)> {
    let (local, domain) = email.trim().rsplit_once('@')?;
    let valid = |part: &str| !part.is_empty() && !part.contains(char::is_whitespace);
    (valid(local) && valid(domain)).then(|| (local.to_lowercase(), domain.to_lowercase()))
}

/// Lower-cases and strips common Latin diacritics so `"Kraków"` matches
/// `"krakow"` and `"Łódź"` matches `"lodz"`.
///
/// Precomposed letters of Latin-1 and Latin Extended-A are mapped to their
/// base letters (`ł`→`l`, `ß`→`ss`, `æ`→`ae`, …), and combining diacritical
/// marks (U+0300–U+036F) are dropped, which also covers decomposed input.
/// Everything else (other scripts, digits, punctuation) is kept as it is.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match fold_char(c) {
            Folded::Keep => folded.push(c),
            Folded::Drop => {}
            Folded::Into(replacement) => folded.push_str(replacement),
        }
    }
    folded
}

/// What [`fold`] does with one lower-case character.
enum Folded {
    Keep,
    Drop,
    Into(&'static str),
}

fn fold_char(c: char) -> Folded {
    let base = match c {
        '\u{0300}'..='\u{036f}' => return Folded::Drop,
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return Folded::Keep,
    };
    Folded::Into(base)
}

/// Characters allowed in a phone number besides digits.
const PHONE_PUNCTUATION: &[char] = &['+', '-', '.', '(', ')', '/', ' '];

/// Whether a free-text word looks like (part of) a phone number: only digits
/// and phone punctuation (`+ - . ( ) /` and spaces), at least four digits, and
/// more digits than punctuation. `"+48 600-100-200"`, `"(600)100200"` and a
/// bare last four like `"0200"` qualify; `"MUG-1234"`, `"123"` and `"(1)(2)(3)(4)"`
/// do not.
pub fn looks_like_phone(text: &str) -> bool {
    let mut digits = 0;
    let mut punctuation = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if PHONE_PUNCTUATION.contains(&c) {
            punctuation += 1;
        } else {
            return false;
        }
    }
    digits >= 4 && digits > punctuation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_ignores_case_and_separators() {
        assert_eq!(sku("MUG-BLUE"), "mugblue");
        assert_eq!(sku("mug blue"), "mugblue");
        assert_eq!(sku("Mug_Blue"), "mugblue");
        assert_eq!(sku("  mug.blue/42 "), "mugblue42");
    }

    #[test]
    fn sku_folds_diacritics_and_drops_other_characters() {
        assert_eq!(sku("ŁÓDŹ-01"), "lodz01");
        assert_eq!(sku("茶-7"), "7");
        assert_eq!(sku("---"), "");
    }

    #[test]
    fn phone_digits_keeps_only_digits() {
        assert_eq!(phone_digits("+48 600 100 200"), "48600100200");
        assert_eq!(phone_digits("(600) 100-200"), "600100200");
        assert_eq!(phone_digits("no digits"), "");
    }

    #[test]
    fn email_parts_are_lower_cased_local_and_domain() {
        assert_eq!(
            email_parts("Jane.Doe@Example.com"),
            Some(("jane.doe".to_owned(), "example.com".to_owned()))
        );
        assert_eq!(
            email_parts("  ZOË@Example.PL "),
            Some(("zoë".to_owned(), "example.pl".to_owned()))
        );
    }

    #[test]
    fn email_parts_splits_at_the_last_at_sign() {
        assert_eq!(
            email_parts("\"a@b\"@example.com"),
            Some(("\"a@b\"".to_owned(), "example.com".to_owned()))
        );
    }

    #[test]
    fn email_parts_rejects_what_is_not_an_address() {
        assert_eq!(email_parts("jane.doe"), None);
        assert_eq!(email_parts("@example.com"), None);
        assert_eq!(email_parts("jane@"), None);
        assert_eq!(email_parts("jane doe@example.com"), None);
        assert_eq!(email_parts(""), None);
    }

    #[test]
    fn fold_strips_polish_diacritics() {
        assert_eq!(fold("Kraków"), "krakow");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("ZAŻÓŁĆ GĘŚLĄ JAŹŃ"), "zazolc gesla jazn");
    }

    #[test]
    fn fold_strips_other_latin_diacritics() {
        assert_eq!(fold("Müller Öl Bär"), "muller ol bar");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Crème Brûlée"), "creme brulee");
        assert_eq!(fold("Æsir Œuvre Ñandú"), "aesir oeuvre nandu");
        assert_eq!(fold("Dvořák Čapek"), "dvorak capek");
    }

    #[test]
    fn fold_drops_combining_marks_of_decomposed_text() {
        assert_eq!(fold("Krako\u{301}w"), "krakow");
        assert_eq!(fold("İstanbul"), "istanbul");
    }

    #[test]
    fn fold_keeps_other_scripts_digits_and_punctuation() {
        assert_eq!(fold("Москва 42-b"), "москва 42-b");
        assert_eq!(fold("plain"), "plain");
    }

    #[test]
    fn looks_like_phone_accepts_formatted_numbers() {
        assert!(looks_like_phone("+48 600 100 200"));
        assert!(looks_like_phone("600-100-200"));
        assert!(looks_like_phone("(600)100200"));
        assert!(looks_like_phone("600.100.200"));
        assert!(looks_like_phone("0200"));
    }

    #[test]
    fn looks_like_phone_rejects_words_and_short_numbers() {
        assert!(!looks_like_phone("123"));
        assert!(!looks_like_phone("+1-2-3"));
        assert!(!looks_like_phone("(1)(2)(3)(4)"));
        assert!(!looks_like_phone("MUG-1234"));
        assert!(!looks_like_phone("jane"));
        assert!(!looks_like_phone(""));
    }
}
