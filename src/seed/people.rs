//! Seeded people: customers with names from [`super::names`], e-mails derived
//! from them, phones in the formats people really type, addresses, and the
//! tracking numbers their parcels get.

use rand::Rng;
use rand::rngs::StdRng;

use super::names::{COUNTRIES, Country, Postal};

/// A repeat buyer: the same customer index always gives the same person.
pub struct Customer {
    pub id: String,
    pub country: &'static Country,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Address,
    pub vip: bool,
}

/// A shipping address, shaped like the API's.
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: &'static str,
    pub region: Option<&'static str>,
    pub postal_code: String,
    pub country: &'static str,
}

/// Customer `index` of the seed's pool.
pub fn customer(seed: u64, index: u64) -> Customer {
    let mut rng = super::rng_for(seed, super::Domain::Customer, index);
    let country = pick_country(&mut rng);
    let (first, last) = person_name(&mut rng, country);
    let email = (rng.random_ratio(49, 50)).then(|| email(&mut rng, first, &last, country));
    let phone = (rng.random_ratio(4, 5)).then(|| phone(&mut rng, country));
    Customer {
        id: format!("cus_{index:06}"),
        country,
        name: format!("{first} {last}"),
        email,
        phone,
        address: address(&mut rng, country),
        vip: rng.random_ratio(3, 100),
    }
}

/// Where customer `index` lives: the first draw of [`customer`], cheaply.
pub fn country_of(seed: u64, index: u64) -> &'static Country {
    pick_country(&mut super::rng_for(seed, super::Domain::Customer, index))
}

fn pick_country(rng: &mut StdRng) -> &'static Country {
    let total: u32 = COUNTRIES.iter().map(|country| country.weight).sum();
    let mut x = rng.random_range(0..total);
    for country in COUNTRIES {
        if x < country.weight {
            return country;
        }
        x -= country.weight;
    }
    &COUNTRIES[0]
}

/// A first and last name from the country; Polish surnames agree in gender.
pub fn person_name(rng: &mut StdRng, country: &Country) -> (&'static str, String) {
    let female = rng.random_bool(0.5);
    let firsts = if female { country.female } else { country.male };
    let first = firsts[rng.random_range(0..firsts.len())];
    let last = country.last[rng.random_range(0..country.last.len())];
    let last = match last.strip_suffix('i') {
        Some(stem) if female && country.code == "PL" && last.ends_with("ki") => {
            format!("{stem}a")
        }
        _ => last.to_string(),
    };
    (first, last)
}

/// `jedrzej.wozniak@wp.pl`, `m.mueller84@gmx.de`, `obrien_mary@yahoo.com`...
fn email(rng: &mut StdRng, first: &str, last: &str, country: &Country) -> String {
    let (first, last) = (fold(first), fold(last));
    let initial = &first[..1];
    let digits = rng.random_range(1..100);
    let year = rng.random_range(1960..2006);
    let local = match rng.random_range(0..7) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}{last}"),
        2 => format!("{initial}.{last}{digits}"),
        3 => format!("{first}_{last}{digits}"),
        4 => format!("{last}.{first}"),
        5 => format!("{first}{year}"),
        _ => format!("{first}.{last}{digits}"),
    };
    let domain = country.domains[rng.random_range(0..country.domains.len())];
    format!("{local}@{domain}")
}

/// Lower-case ASCII for e-mail local parts: `Jędrzej` → `jedrzej`, `Müller` →
/// `mueller`, `O'Brien` → `obrien`.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'a'..='z' => {
                out.push(c);
                continue;
            }
            'ą' | 'à' | 'á' | 'â' => "a",
            'ä' => "ae",
            'ć' | 'ç' => "c",
            'ę' | 'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' => "i",
            'ł' => "l",
            'ń' | 'ñ' => "n",
            'ó' | 'ô' => "o",
            'ö' => "oe",
            'ś' => "s",
            'ß' => "ss",
            'ù' | 'û' | 'ú' => "u",
            'ü' => "ue",
            'ź' | 'ż' => "z",
            _ => "",
        };
        out.push_str(folded);
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

/// A phone number in one of the ways people of that country write it.
fn phone(rng: &mut StdRng, country: &Country) -> String {
    let style = rng.random_range(0..5);
    match country.code {
        "PL" => {
            let prefix =
                ["50", "51", "53", "60", "66", "69", "72", "79", "88"][rng.random_range(0..9)];
            let (a, b, c) = (
                format!("{prefix}{}", digits(rng, 1)),
                digits(rng, 3),
                digits(rng, 3),
            );
            match style {
                0 => format!("+48 {a} {b} {c}"),
                1 => format!("{a}{b}{c}"),
                2 => format!("+48{a}{b}{c}"),
                3 => format!("{a}-{b}-{c}"),
                _ => format!("{a} {b} {c}"),
            }
        }
        "US" => {
            let area = [
                "212", "312", "415", "646", "718", "213", "305", "404", "617", "206",
            ][rng.random_range(0..10)];
            let exchange = format!("{}{}", rng.random_range(2..10), digits(rng, 2));
            let line = digits(rng, 4);
            match style {
                0 => format!("({area}) {exchange}-{line}"),
                1 => format!("{area}.{exchange}.{line}"),
                2 => format!("+1-{area}-{exchange}-{line}"),
                3 => format!("{area}-{exchange}-{line}"),
                _ => format!("+1 {area} {exchange} {line}"),
            }
        }
        "DE" => {
            let (prefix, rest) = (format!("15{}", digits(rng, 1)), digits(rng, 8));
            match style % 3 {
                0 => format!("+49 {prefix} {rest}"),
                1 => format!("0{prefix} {rest}"),
                _ => format!("+49 (0){prefix} {rest}"),
            }
        }
        "GB" => {
            let (a, b) = (format!("7{}", digits(rng, 3)), digits(rng, 6));
            match style % 3 {
                0 => format!("+44 {a} {b}"),
                1 => format!("0{a} {b}"),
                _ => format!("0{a}{b}"),
            }
        }
        _ => {
            let lead = rng.random_range(6..8);
            let pairs: Vec<String> = (0..4).map(|_| digits(rng, 2)).collect();
            match style % 4 {
                0 => format!("+33 {lead} {}", pairs.join(" ")),
                1 => format!("0{lead} {}", pairs.join(" ")),
                2 => format!("0{lead}.{}", pairs.join(".")),
                _ => format!("0{lead}{}", pairs.concat()),
            }
        }
    }
}

fn digits(rng: &mut StdRng, count: usize) -> String {
    (0..count)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A street address in one of the country's cities.
pub fn address(rng: &mut StdRng, country: &'static Country) -> Address {
    let city = &country.cities[rng.random_range(0..country.cities.len())];
    let street = country.streets[rng.random_range(0..country.streets.len())];
    let house = rng.random_range(1..180);
    let (line1, line2) = match country.code {
        "PL" if rng.random_bool(0.6) => (
            format!("{street} {house}/{}", rng.random_range(1..60)),
            None,
        ),
        "PL" => (format!("{street} {house}"), None),
        "DE" if rng.random_bool(0.15) => (format!("{street} {house}a"), None),
        "DE" => (format!("{street} {house}"), None),
        "US" => {
            let apartment = rng.random_bool(0.25).then(|| {
                format!(
                    "Apt {}{}",
                    rng.random_range(1..30),
                    char::from(b'A' + rng.random_range(0..6u8))
                )
            });
            (format!("{} {street}", rng.random_range(1..9999)), apartment)
        }
        "GB" => {
            let flat = rng
                .random_bool(0.15)
                .then(|| format!("Flat {}", rng.random_range(1..40)));
            (format!("{house} {street}"), flat)
        }
        _ => (format!("{house} {street}"), None),
    };
    let postal_code = match city.postal {
        Postal::Dashed(low, high) => {
            let code = rng.random_range(low..=high);
            format!("{:02}-{:03}", code / 1000, code % 1000)
        }
        Postal::Digits(low, high) => format!("{:05}", rng.random_range(low..=high)),
        Postal::Outward(outward) => {
            const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
            let letter = |rng: &mut StdRng| char::from(LETTERS[rng.random_range(0..LETTERS.len())]);
            let district = outward[rng.random_range(0..outward.len())];
            let digit = rng.random_range(0..10);
            format!("{district} {digit}{}{}", letter(rng), letter(rng))
        }
    };
    Address {
        line1,
        line2,
        city: city.name,
        region: city.region,
        postal_code,
        country: country.code,
    }
}

/// A carrier serving the country and a tracking number in its format
/// (`D` a digit, `A` a letter, anything else as is).
pub fn tracking(rng: &mut StdRng, country: &Country) -> (&'static str, String) {
    let carrier = country.carriers[rng.random_range(0..country.carriers.len())];
    let pattern = match carrier {
        "InPost" => "DDDDDDDDDDDDDDDDDDDDDDDD",
        "DPD" => "DDDDDDDDDDDDDD",
        "DHL" => "JJDDDDDDDDDDDDDDDDDDDD",
        "Poczta Polska" => "00DDDDDDDDDDDDDDDDDD",
        "Hermes" => "HDDDDDDDDDDDDDDDDDDD",
        "UPS" => "1ZAAADDDDDDDDDDDDD",
        "USPS" => "9400DDDDDDDDDDDDDDDDDD",
        "FedEx" => "DDDDDDDDDDDD",
        "Royal Mail" => "AADDDDDDDDDGB",
        "Evri" => "HAADDDDDDDDDDDDDD",
        "Colissimo" => "6ADDDDDDDDDDD",
        _ => "XYDDDDDDDDDFR",
    };
    let number = pattern
        .bytes()
        .map(|b| match b {
            b'D' => char::from(b'0' + rng.random_range(0..10u8)),
            b'A' => char::from(b'A' + rng.random_range(0..26u8)),
            other => char::from(other),
        })
        .collect();
    (carrier, number)
}
