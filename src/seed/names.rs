//! Word lists for seeded customers: names (with their diacritics), cities with
//! postal codes, streets, e-mail domains and carriers, one table per country.

/// How a country writes postal codes.
pub enum Postal {
    /// `dd-ddd` (Poland), from a numeric range.
    Dashed(u32, u32),
    /// Five digits (Germany, France, the US), from a numeric range.
    Digits(u32, u32),
    /// UK: one of these outward codes and a random inward code (`SW1A 1AA`).
    Outward(&'static [&'static str]),
}

pub struct City {
    pub name: &'static str,
    pub region: Option<&'static str>,
    pub postal: Postal,
}

const fn city(name: &'static str, region: Option<&'static str>, postal: Postal) -> City {
    City {
        name,
        region,
        postal,
    }
}

pub struct Country {
    pub code: &'static str,
    /// Share of customers from here.
    pub weight: u32,
    /// The store these customers usually buy from, when it is being seeded.
    pub store: &'static str,
    pub female: &'static [&'static str],
    pub male: &'static [&'static str],
    pub last: &'static [&'static str],
    pub cities: &'static [City],
    pub streets: &'static [&'static str],
    pub domains: &'static [&'static str],
    pub carriers: &'static [&'static str],
}

use Postal::{Dashed, Digits, Outward};

#[rustfmt::skip]
pub const COUNTRIES: &[Country] = &[
    Country {
        code: "PL",
        weight: 30,
        store: "eu",
        female: &["Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Magdalena", "Zofia", "Łucja", "Joanna", "Ewa", "Barbara", "Marta", "Natalia", "Aleksandra", "Jadwiga", "Elżbieta", "Bożena"],
        male: &["Jakub", "Łukasz", "Piotr", "Paweł", "Michał", "Krzysztof", "Tomasz", "Grzegorz", "Wojciech", "Bartłomiej", "Jędrzej", "Andrzej", "Mikołaj", "Stanisław", "Maciej", "Zbigniew"],
        last: &["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk", "Piotrowski", "Grabowski", "Nowakowski", "Pawłowski", "Michalski", "Król", "Wieczorek", "Jabłoński", "Wróbel", "Zając", "Sikora", "Ostrowski", "Baran", "Duda", "Szewczyk", "Tomaszewski", "Pietrzak", "Wróblewski", "Jasiński", "Zawadzki", "Bąk", "Chmielewski", "Sokołowski", "Kaźmierczak", "Żak", "Łuczak", "Ziółkowski", "Głowacki", "Czarnecki", "Sadowski"],
        cities: &[
            city("Warszawa", Some("mazowieckie"), Dashed(0, 4999)),
            city("Kraków", Some("małopolskie"), Dashed(30_001, 31_999)),
            city("Łódź", Some("łódzkie"), Dashed(90_001, 94_999)),
            city("Wrocław", Some("dolnośląskie"), Dashed(50_001, 54_999)),
            city("Poznań", Some("wielkopolskie"), Dashed(60_001, 61_999)),
            city("Gdańsk", Some("pomorskie"), Dashed(80_001, 80_999)),
            city("Szczecin", Some("zachodniopomorskie"), Dashed(70_001, 71_999)),
            city("Lublin", Some("lubelskie"), Dashed(20_001, 20_999)),
            city("Białystok", Some("podlaskie"), Dashed(15_001, 15_999)),
            city("Katowice", Some("śląskie"), Dashed(40_001, 40_999)),
            city("Bielsko-Biała", Some("śląskie"), Dashed(43_300, 43_399)),
            city("Zielona Góra", Some("lubuskie"), Dashed(65_001, 65_999)),
        ],
        streets: &["ul. Długa", "ul. Floriańska", "ul. Marszałkowska", "ul. Piotrkowska", "ul. Świętokrzyska", "al. Jerozolimskie", "ul. Grunwaldzka", "ul. Mickiewicza", "ul. Słowackiego", "ul. Kościuszki", "ul. Żeromskiego", "ul. Łąkowa", "os. Tysiąclecia"],
        domains: &["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "outlook.com"],
        carriers: &["InPost", "DPD", "DHL", "Poczta Polska"],
    },
    Country {
        code: "DE",
        weight: 20,
        store: "eu",
        female: &["Sophie", "Marie", "Hannah", "Lea", "Anna", "Lena", "Katrin", "Sabine", "Ursula", "Mia", "Emma", "Käthe", "Gisela", "Jutta", "Brigitte", "Ilse"],
        male: &["Jürgen", "Jörg", "Björn", "Günter", "Maximilian", "Lukas", "Jonas", "Felix", "Leon", "Paul", "Uwe", "Dieter", "Klaus", "Stefan", "Matthias", "Sören"],
        last: &["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Köhler", "König", "Möller", "Weiß", "Groß", "Jäger", "Krämer", "Böhm", "Kühn", "Vogel", "Günther", "Scholz"],
        cities: &[
            city("Berlin", Some("Berlin"), Digits(10_115, 14_199)),
            city("Hamburg", Some("Hamburg"), Digits(20_095, 22_769)),
            city("München", Some("Bayern"), Digits(80_331, 81_929)),
            city("Köln", Some("Nordrhein-Westfalen"), Digits(50_667, 51_149)),
            city("Frankfurt am Main", Some("Hessen"), Digits(60_306, 60_599)),
            city("Stuttgart", Some("Baden-Württemberg"), Digits(70_173, 70_629)),
            city("Düsseldorf", Some("Nordrhein-Westfalen"), Digits(40_210, 40_629)),
            city("Leipzig", Some("Sachsen"), Digits(4_103, 4_357)),
            city("Dresden", Some("Sachsen"), Digits(1_067, 1_328)),
            city("Nürnberg", Some("Bayern"), Digits(90_402, 90_491)),
        ],
        streets: &["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Gartenstraße", "Lindenstraße", "Bergstraße", "Kirchstraße", "Friedrichstraße", "Königsallee", "Münchner Straße", "Am Weißen Steg"],
        domains: &["gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de"],
        carriers: &["DHL", "DPD", "Hermes", "UPS"],
    },
    Country {
        code: "US",
        weight: 25,
        store: "us",
        female: &["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Nancy", "Ashley", "Emily", "Zoë", "Renée", "Chloe"],
        male: &["James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "José", "Andrés"],
        last: &["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Nguyen", "Flores", "Green", "Baker", "Rivera", "Mitchell", "O'Brien", "Muñoz", "Peña", "Kowalski"],
        cities: &[
            city("New York", Some("NY"), Digits(10_001, 10_282)),
            city("Los Angeles", Some("CA"), Digits(90_001, 90_089)),
            city("Chicago", Some("IL"), Digits(60_601, 60_661)),
            city("Houston", Some("TX"), Digits(77_001, 77_099)),
            city("Phoenix", Some("AZ"), Digits(85_001, 85_054)),
            city("Philadelphia", Some("PA"), Digits(19_102, 19_154)),
            city("San Diego", Some("CA"), Digits(92_101, 92_199)),
            city("Seattle", Some("WA"), Digits(98_101, 98_199)),
            city("Boston", Some("MA"), Digits(2_108, 2_137)),
            city("Denver", Some("CO"), Digits(80_202, 80_299)),
            city("Miami", Some("FL"), Digits(33_101, 33_199)),
            city("Atlanta", Some("GA"), Digits(30_303, 30_399)),
        ],
        streets: &["Main St", "Oak Ave", "Maple Ave", "Park Ave", "2nd St", "Elm St", "Washington Blvd", "Lake Shore Dr", "Sunset Blvd", "Broadway", "Cedar Ln", "Pine St"],
        domains: &["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "hotmail.com"],
        carriers: &["UPS", "USPS", "FedEx"],
    },
    Country {
        code: "GB",
        weight: 12,
        store: "default",
        female: &["Amelia", "Olivia", "Isla", "Ava", "Emily", "Sophie", "Chloe", "Siobhan", "Niamh", "Charlotte", "Eleanor", "Poppy"],
        male: &["Oliver", "George", "Harry", "Jack", "Charlie", "Thomas", "Alfie", "Rhys", "Callum", "Seán", "Arthur", "Freddie"],
        last: &["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "Roberts", "Hughes", "Edwards", "Clarke", "Wood", "Khan", "MacDonald", "O'Neill", "Ó Briain"],
        cities: &[
            city("London", None, Outward(&["SW1A", "EC1A", "N1", "E14", "W1D", "SE1", "NW3"])),
            city("Manchester", None, Outward(&["M1", "M4", "M20"])),
            city("Birmingham", None, Outward(&["B1", "B15", "B29"])),
            city("Edinburgh", None, Outward(&["EH1", "EH3", "EH10"])),
            city("Glasgow", None, Outward(&["G1", "G12"])),
            city("Leeds", None, Outward(&["LS1", "LS6"])),
            city("Bristol", None, Outward(&["BS1", "BS8"])),
            city("Cardiff", None, Outward(&["CF10", "CF24"])),
        ],
        streets: &["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Road", "King's Road", "Queen Street", "Mill Lane", "The Crescent"],
        domains: &["gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com", "yahoo.co.uk"],
        carriers: &["Royal Mail", "DPD", "Evri"],
    },
    Country {
        code: "FR",
        weight: 13,
        store: "eu",
        female: &["Marie", "Jeanne", "Françoise", "Monique", "Catherine", "Nathalie", "Isabelle", "Hélène", "Chloé", "Léa", "Zoé", "Élodie", "Gaëlle", "Anaïs"],
        male: &["Jean", "Pierre", "Michel", "André", "Philippe", "René", "Louis", "Alain", "Jacques", "Jérôme", "Benoît", "François", "Mathéo", "Loïc"],
        last: &["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "David", "Bertrand", "Roux", "Fournier", "Girard", "Mercier", "Dupont", "Lambert", "Bonnet", "Chevalier", "Légaré", "Faure"],
        cities: &[
            city("Paris", Some("Île-de-France"), Digits(75_001, 75_020)),
            city("Lyon", Some("Auvergne-Rhône-Alpes"), Digits(69_001, 69_009)),
            city("Marseille", Some("Provence-Alpes-Côte d'Azur"), Digits(13_001, 13_016)),
            city("Toulouse", Some("Occitanie"), Digits(31_000, 31_500)),
            city("Nice", Some("Provence-Alpes-Côte d'Azur"), Digits(6_000, 6_300)),
            city("Nantes", Some("Pays de la Loire"), Digits(44_000, 44_300)),
            city("Strasbourg", Some("Grand Est"), Digits(67_000, 67_200)),
            city("Bordeaux", Some("Nouvelle-Aquitaine"), Digits(33_000, 33_300)),
        ],
        streets: &["rue de la Paix", "avenue des Champs-Élysées", "rue de Rivoli", "boulevard Saint-Germain", "rue Victor Hugo", "place Bellecour", "rue du Faubourg Saint-Honoré", "quai des Belges", "allée des Tilleuls"],
        domains: &["orange.fr", "free.fr", "laposte.net", "gmail.com", "sfr.fr"],
        carriers: &["Colissimo", "Chronopost", "DPD"],
    },
];

/// Delivery notes customers leave, in the languages of the countries above.
pub const NOTES: &[&str] = &[
    "Leave at the door",
    "Please call before delivery",
    "Ring the bell twice",
    "Deliver after 5 pm",
    "Gift wrap, please",
    "Fragile — handle with care",
    "Proszę zostawić u sąsiada",
    "Paczkomat przy Biedronce",
    "Bitte beim Nachbarn abgeben",
    "Bitte nicht klingeln, Baby schläft",
    "Livrer au gardien, merci",
    "Side door, not the front",
    "Don't leave with the concierge",
];
