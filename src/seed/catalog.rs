//! The seeded catalog: per store, `--products` products in twenty categories,
//! named like a real shop's ("Blue Ceramic Mug 350ml", SKU `MUG-CER-BLUE-350`),
//! inserted when missing and read back so order lines snapshot what is stored.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sqlx::PgPool;
use uuid::Uuid;

/// A kind of product: its noun, SKU code, base price range and the variants it
/// comes in (`Name/CODE` lists, comma separated).
struct Kind {
    noun: &'static str,
    code: &'static str,
    price: (u32, u32),
    colored: bool,
    materials: &'static str,
    sizes: &'static str,
}

const fn k(
    noun: &'static str,
    code: &'static str,
    price: (u32, u32),
    colored: bool,
    materials: &'static str,
    sizes: &'static str,
) -> Kind {
    Kind {
        noun,
        code,
        price,
        colored,
        materials,
        sizes,
    }
}

const COLORS: &str = "Blue/BLUE,Red/RED,Black/BLK,White/WHT,Green/GRN,Grey/GRY,Yellow/YEL,Navy/NAVY,Beige/BEIGE,Pink/PINK,Sage/SAGE,Terracotta/TERRA";

#[rustfmt::skip]
const CATEGORIES: &[(&str, &[Kind])] = &[
    ("Kitchen", &[k("Kettle", "KETTLE", (25, 120), true, "Stainless/SS,Glass/GLS", "1.0L/10,1.7L/17"), k("Frying Pan", "PAN", (20, 140), false, "Cast Iron/CI,Non-stick/NS,Stainless/SS", "24cm/24,28cm/28"), k("Chef Knife", "KNIFE", (15, 220), false, "Damascus/DAM,Stainless/SS", "15cm/15,20cm/20"), k("Cutting Board", "BOARD", (8, 60), false, "Bamboo/BAM,Oak/OAK,Walnut/WAL", "Small/S,Large/L"), k("Toaster", "TOAST", (25, 110), true, "", "2-Slice/2S,4-Slice/4S")]),
    ("Tableware", &[k("Mug", "MUG", (6, 25), true, "Ceramic/CER,Enamel/ENA,Stoneware/STN", "350ml/350,450ml/450"), k("Dinner Plate", "PLATE", (12, 60), true, "Porcelain/POR,Stoneware/STN", "Set of 4/4,Set of 6/6"), k("Wine Glass", "WGLASS", (10, 70), false, "Crystal/CRY,Glass/GLS", "Set of 2/2,Set of 6/6"), k("Cutlery Set", "CUTL", (20, 150), true, "", "16-piece/16,24-piece/24")]),
    ("Coffee & Tea", &[k("French Press", "PRESS", (15, 70), false, "Glass/GLS,Stainless/SS", "350ml/350,1L/1000"), k("Coffee Grinder", "GRIND", (20, 180), true, "Manual/MAN,Electric/ELEC", ""), k("Teapot", "TEAPOT", (15, 90), true, "Cast Iron/CI,Ceramic/CER", "0.8L/08,1.2L/12"), k("Espresso Beans", "BEANS", (6, 40), false, "Arabica/ARA,House Blend/BLD,Decaf/DEC", "250g/250,1kg/1000"), k("Loose Leaf Tea", "TEA", (4, 25), false, "Green/GRN,Earl Grey/EG,Chamomile/CHA,Rooibos/RB", "100g/100,250g/250")]),
    ("Home Decor", &[k("Vase", "VASE", (10, 80), true, "Glass/GLS,Ceramic/CER", "20cm/20,35cm/35"), k("Photo Frame", "FRAME", (5, 40), true, "Oak/OAK,Metal/MTL", "10x15/1015,20x30/2030"), k("Scented Candle", "CANDLE", (6, 35), false, "Vanilla/VAN,Cedar/CED,Lavender/LAV,Fig/FIG", "200g/200,400g/400"), k("Throw Pillow", "PILLOW", (12, 55), true, "Linen/LIN,Velvet/VEL", "45x45/45,50x50/50"), k("Wall Clock", "CLOCK", (15, 90), true, "", "30cm/30,40cm/40")]),
    ("Bedding", &[k("Duvet Cover", "DUVET", (25, 140), true, "Cotton/COT,Linen/LIN", "Single/SGL,Double/DBL,King/KNG"), k("Pillowcase", "PCASE", (6, 30), true, "Cotton/COT,Silk/SLK", "Pair/2"), k("Fitted Sheet", "SHEET", (15, 70), true, "Cotton/COT,Jersey/JER", "Single/SGL,Double/DBL"), k("Weighted Blanket", "BLANKET", (60, 220), true, "", "7kg/7,9kg/9")]),
    ("Bath", &[k("Bath Towel", "TOWEL", (8, 45), true, "Cotton/COT,Bamboo/BAM", "50x100/50,70x140/70"), k("Bath Mat", "BMAT", (10, 40), true, "", "50x80/5080"), k("Soap Dispenser", "SOAP", (8, 35), true, "Ceramic/CER,Glass/GLS", ""), k("Bathrobe", "ROBE", (30, 120), true, "Waffle/WAF,Terry/TRY", "S/S,M/M,L/L")]),
    ("Lighting", &[k("Desk Lamp", "LAMP", (20, 150), true, "Metal/MTL,Wood/WOOD", ""), k("LED Bulb", "BULB", (3, 25), false, "E27 9W/E27,GU10 5W/GU10", "2-Pack/2P,4-Pack/4P"), k("String Lights", "LIGHTS", (8, 45), false, "Warm White/WW,Multicolour/MC", "10m/10,20m/20"), k("Floor Lamp", "FLAMP", (45, 260), true, "Brass/BRS,Metal/MTL", "")]),
    ("Furniture", &[k("Bookshelf", "SHELF", (60, 420), false, "Oak/OAK,Pine/PINE,Walnut/WAL", "3-Tier/3T,5-Tier/5T"), k("Side Table", "STABLE", (35, 220), true, "Oak/OAK,Marble/MRB", ""), k("Office Chair", "CHAIR", (90, 480), true, "Mesh/MESH,Leather/LTH", ""), k("Bar Stool", "STOOL", (35, 160), true, "Metal/MTL,Wood/WOOD", "65cm/65,75cm/75")]),
    ("Garden", &[k("Garden Hose", "HOSE", (15, 80), true, "", "15m/15,25m/25"), k("Plant Pot", "PPOT", (4, 45), true, "Terracotta/TER,Ceramic/CER", "15cm/15,25cm/25"), k("Pruning Shears", "SHEARS", (10, 60), false, "Bypass/BYP,Anvil/ANV", ""), k("Watering Can", "WCAN", (8, 40), true, "", "5L/5,10L/10"), k("Raised Bed Kit", "RBED", (50, 250), false, "Cedar/CED,Pine/PINE", "120cm/120,180cm/180")]),
    ("Tools", &[k("Cordless Drill", "DRILL", (45, 260), false, "Brushless/BL,Compact/CMP", "12V/12,18V/18"), k("Screwdriver Set", "SCREW", (10, 70), false, "Precision/PRC,Magnetic/MAG", "32-piece/32,64-piece/64"), k("Tape Measure", "TAPE", (5, 30), true, "", "5m/5,8m/8"), k("Claw Hammer", "HAMMER", (10, 45), false, "Steel/STEEL,Fiberglass/FG", "16oz/16,20oz/20"), k("Spirit Level", "LEVEL", (8, 60), false, "Aluminium/ALU", "60cm/60,120cm/120")]),
    ("Electronics", &[k("USB-C Charger", "CHRG", (12, 70), true, "GaN/GAN", "30W/30,65W/65,100W/100"), k("Power Bank", "PBANK", (18, 90), true, "", "10000mAh/10K,20000mAh/20K"), k("Smart Plug", "PLUG", (10, 40), false, "Wi-Fi/WIFI,Zigbee/ZB", "1-Pack/1P,4-Pack/4P"), k("HDMI Cable", "HDMI", (5, 30), false, "Braided/BRD", "1m/1,2m/2,5m/5"), k("Webcam", "CAM", (30, 180), false, "", "1080p/1080,4K/4K")]),
    ("Phone Accessories", &[k("Phone Case", "CASE", (8, 45), true, "Silicone/SIL,Leather/LTH,Clear/CLR", ""), k("Screen Protector", "SCRN", (5, 25), false, "Tempered Glass/TG,Privacy/PRV", "2-Pack/2P"), k("Car Mount", "MOUNT", (10, 45), false, "Magnetic/MAG,Clamp/CLP", ""), k("Charging Cable", "CABLE", (6, 30), true, "USB-C/USBC,Lightning/LTN", "1m/1,2m/2")]),
    ("Audio", &[k("Wireless Earbuds", "BUDS", (30, 250), true, "Noise-cancelling/ANC,Sport/SPT", ""), k("Bluetooth Speaker", "SPK", (25, 300), true, "Mini/MINI,Portable/PORT", ""), k("Over-Ear Headphones", "HPHONE", (40, 350), true, "Wired/WRD,Wireless/WL", ""), k("Turntable", "TURN", (120, 490), false, "Walnut/WAL,Black Oak/BOAK", "")]),
    ("Office", &[k("Notebook", "NOTE", (4, 30), true, "Dotted/DOT,Lined/LIN,Plain/PLN", "A5/A5,A4/A4"), k("Fountain Pen", "PEN", (15, 180), true, "", "Fine/F,Medium/M"), k("Desk Organizer", "ORG", (10, 60), false, "Bamboo/BAM,Metal/MTL", ""), k("Monitor Stand", "STAND", (25, 120), false, "Wood/WOOD,Aluminium/ALU", ""), k("Sticky Notes", "STICKY", (2, 12), true, "", "76x76/76,76x127/127")]),
    ("Books", &[k("Cookbook", "COOK", (12, 45), false, "Italian/ITA,Polish/POL,Vegan/VEG,Baking/BAKE,Weeknight/WKN", "Paperback/PB,Hardcover/HC"), k("Travel Guide", "GUIDE", (10, 35), false, "Kraków/KRK,Berlin/BER,Paris/PAR,New York/NYC,London/LON,Gdańsk/GDN,München/MUC", "Paperback/PB"), k("Field Guide", "FIELD", (12, 40), false, "Birds/BIRD,Mushrooms/MUSH,Trees/TREE,Wildflowers/FLWR", "Paperback/PB,Hardcover/HC"), k("Puzzle Book", "PUZB", (5, 18), false, "Sudoku/SUDO,Crossword/CROSS,Logic/LOGIC", "")]),
    ("Toys", &[k("Building Blocks", "BLOCKS", (15, 120), false, "Classic/CLS,Creative/CRE", "100 pcs/100,500 pcs/500"), k("Plush Bear", "BEAR", (8, 45), true, "", "Small/S,Large/L"), k("Jigsaw Puzzle", "PUZZLE", (10, 40), false, "Landscape/LND,Map/MAP,Art/ART", "500 pcs/500,1000 pcs/1000"), k("Wooden Train Set", "TRAIN", (25, 130), false, "Starter/STR,Deluxe/DLX", ""), k("Board Game", "GAME", (15, 80), false, "Strategy/STR,Family/FAM,Party/PTY", "")]),
    ("Sports", &[k("Yoga Mat", "YOGA", (15, 90), true, "Cork/CORK,TPE/TPE", "4mm/4,6mm/6"), k("Dumbbell", "DUMB", (8, 90), false, "Neoprene/NEO,Cast Iron/CI", "2kg/2,5kg/5,10kg/10"), k("Water Bottle", "BOTTLE", (8, 45), true, "Stainless/SS,Tritan/TRI", "500ml/500,750ml/750,1L/1000"), k("Resistance Bands", "BAND", (8, 35), false, "Latex/LTX,Fabric/FAB", "Set of 3/3,Set of 5/5"), k("Running Socks", "SOCKS", (5, 20), true, "", "39-42/3942,43-46/4346")]),
    ("Outdoor", &[k("Tent", "TENT", (60, 450), true, "", "2-Person/2P,4-Person/4P"), k("Sleeping Bag", "SBAG", (35, 250), true, "Summer/SUM,3-Season/3S", ""), k("Headlamp", "HLAMP", (10, 70), false, "Rechargeable/RCH", "300lm/300,600lm/600"), k("Camping Stove", "STOVE", (25, 140), false, "Gas/GAS,Multi-fuel/MF", ""), k("Hiking Backpack", "PACK", (45, 260), true, "", "30L/30,45L/45")]),
    ("Beauty", &[k("Face Cream", "CREAM", (8, 80), false, "Hydrating/HYD,Night/NGT,SPF 30/SPF30", "50ml/50"), k("Shampoo", "SHAMPOO", (4, 25), false, "Argan/ARG,Tea Tree/TT,Nettle/NTL", "250ml/250,500ml/500"), k("Hair Dryer", "DRYER", (25, 200), true, "Ionic/ION,Compact/CMP", ""), k("Lip Balm", "BALM", (2, 10), false, "Mint/MINT,Cherry/CHRY,Vanilla/VAN", ""), k("Perfume", "PERF", (25, 180), false, "Eau de Parfum/EDP,Eau de Toilette/EDT", "50ml/50,100ml/100")]),
    ("Pet Supplies", &[k("Dog Leash", "LEASH", (8, 40), true, "Nylon/NYL,Leather/LTH", "1.2m/12,2m/20"), k("Cat Scratcher", "SCRATCH", (12, 90), false, "Sisal/SIS,Cardboard/CARD", ""), k("Pet Bed", "PBED", (20, 120), true, "", "S/S,M/M,L/L"), k("Dog Food", "FOOD", (10, 85), false, "Chicken/CHK,Salmon/SAL,Lamb/LAMB", "2kg/2,12kg/12"), k("Cat Toy", "CTOY", (2, 15), false, "Feather/FTH,Catnip/CNIP", "")]),
];

/// Categories whose orders are sometimes tagged `fragile`.
pub const FRAGILE: &[&str] = &["Kitchen", "Tableware", "Home Decor", "Lighting"];

/// A product as stored, what order lines snapshot. Money is in cents.
pub struct Product {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price: i64,
    pub cost: Option<i64>,
}

/// Generates the store's catalog; the same seed and store give the same one.
fn generate(rng: &mut StdRng, count: usize, created_ms: i64) -> Vec<(Product, i32)> {
    let mut seen = HashSet::new();
    let mut products = Vec::with_capacity(count);
    for index in 0..count {
        let (category, kinds) = CATEGORIES[index % CATEGORIES.len()];
        // Draw variants until the SKU is new; a crowded catalog gets a suffix.
        let (kind, name, sku, size) = (0..)
            .find_map(|attempt| {
                let (kind, name, mut sku, size) = variant(rng, kinds);
                if attempt >= 30 {
                    sku = format!("{sku}-V{index}");
                }
                seen.insert(sku.clone()).then_some((kind, name, sku, size))
            })
            .expect("an unbounded search ends");
        let (low, high) = kind.price;
        let whole = i64::from(rng.random_range(low..=high)) * (10 + 3 * size as i64) / 10;
        let cents = [99, 49, 0, 95, 50, 29][rng.random_range(0..6)];
        let price = (whole * 100 + cents).clamp(100, 50_000);
        let cost = rng
            .random_ratio(9, 10)
            .then(|| price * rng.random_range(30..70) / 100);
        let random: [u8; 10] = rng.random();
        let created = (created_ms + index as i64 * 1000) as u64;
        let id = uuid::Builder::from_unix_timestamp_millis(created, &random).into_uuid();
        let stock = rng.random_range(500..20_000);
        let category = category.to_string();
        let product = Product {
            id,
            sku,
            name,
            category,
            price,
            cost,
        };
        products.push((product, stock));
    }
    products
}

/// A random variant of one of the kinds: (kind, name, SKU, size index).
fn variant(rng: &mut StdRng, kinds: &'static [Kind]) -> (&'static Kind, String, String, usize) {
    let kind = &kinds[rng.random_range(0..kinds.len())];
    let color = if kind.colored {
        pick(rng, COLORS)
    } else {
        None
    };
    let material = pick(rng, kind.materials);
    let size = pick(rng, kind.sizes);
    let size_index = kind
        .sizes
        .split(',')
        .position(|entry| Some(entry) == size.map(|s| s.2))
        .unwrap_or(0);
    let parts = [color, material].into_iter().flatten();
    let name = parts
        .clone()
        .map(|part| part.0)
        .chain([kind.noun])
        .chain(size.map(|s| s.0))
        .collect::<Vec<_>>()
        .join(" ");
    let sku = [kind.code]
        .into_iter()
        .chain(parts.map(|part| part.1))
        .chain(size.map(|s| s.1))
        .collect::<Vec<_>>()
        .join("-");
    (kind, name, sku, size_index)
}

/// One `Name/CODE` of a comma-separated list (the whole entry too), or none if empty.
fn pick(
    rng: &mut StdRng,
    list: &'static str,
) -> Option<(&'static str, &'static str, &'static str)> {
    if list.is_empty() {
        return None;
    }
    let entries: Vec<&str> = list.split(',').collect();
    let entry = entries[rng.random_range(0..entries.len())];
    let (label, code) = entry.split_once('/').unwrap_or((entry, entry));
    Some((label, code, entry))
}

/// Inserts the store's generated catalog where its SKUs are missing and returns
/// the active products with those SKUs as stored, in generation order.
pub async fn ensure(
    pool: &PgPool,
    seed: u64,
    store: &str,
    count: usize,
    created_ms: i64,
) -> anyhow::Result<Vec<Product>> {
    let mut rng = super::rng_for(seed, super::Domain::Catalog, super::fnv(store.as_bytes()));
    let generated = generate(&mut rng, count, created_ms);
    let created_at = DateTime::<Utc>::from_timestamp_millis(created_ms).context("catalog time")?;
    let ids: Vec<Uuid> = generated.iter().map(|(p, _)| p.id).collect();
    let skus: Vec<&str> = generated.iter().map(|(p, _)| p.sku.as_str()).collect();
    let names: Vec<&str> = generated.iter().map(|(p, _)| p.name.as_str()).collect();
    let descriptions: Vec<String> = generated
        .iter()
        .map(|(p, _)| format!("{}, from our {} range.", p.name, p.category))
        .collect();
    let categories: Vec<&str> = generated.iter().map(|(p, _)| p.category.as_str()).collect();
    let prices: Vec<Decimal> = generated
        .iter()
        .map(|(p, _)| Decimal::new(p.price, 2))
        .collect();
    let costs: Vec<Option<Decimal>> = generated
        .iter()
        .map(|(p, _)| p.cost.map(|c| Decimal::new(c, 2)))
        .collect();
    let stocks: Vec<i32> = generated.iter().map(|(_, stock)| *stock).collect();
    sqlx::query(
        "insert into products (id, store_id, sku, name, description, category, price, cost, stock, created_at, updated_at)
         select id, $2, sku, name, description, category, price, cost, stock, $10, $10
         from unnest($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::numeric[], $9::int[])
              as t(id, sku, name, description, category, price, cost, stock)
         on conflict (store_id, sku) do nothing",
    )
    .bind(&ids).bind(store).bind(&skus).bind(&names).bind(&descriptions).bind(&categories)
    .bind(&prices).bind(&costs).bind(&stocks).bind(created_at)
    .execute(pool)
    .await
    .with_context(|| format!("inserting the catalog of store {store}"))?;

    type Row = (Uuid, String, String, String, Decimal, Option<Decimal>);
    let rows: Vec<Row> = sqlx::query_as(
        "select id, sku, name, category, price, cost from products
         where store_id = $1 and active and sku = any($2)",
    )
    .bind(store)
    .bind(&skus)
    .fetch_all(pool)
    .await
    .with_context(|| format!("reading the catalog of store {store}"))?;
    let mut by_sku: HashMap<String, Row> =
        rows.into_iter().map(|row| (row.1.clone(), row)).collect();
    let cents = |amount: Decimal| {
        (amount * Decimal::ONE_HUNDRED)
            .trunc()
            .to_i64()
            .unwrap_or(0)
    };
    let catalog: Vec<Product> = skus
        .iter()
        .filter_map(|sku| by_sku.remove(*sku))
        .map(|(id, sku, name, category, price, cost)| Product {
            id,
            sku,
            name,
            category,
            price: cents(price),
            cost: cost.map(cents),
        })
        .collect();
    anyhow::ensure!(
        !catalog.is_empty(),
        "store {store} has no active seeded products"
    );
    Ok(catalog)
}
