-- Foundation: stores, API keys, products and idempotency records.
-- Money is numeric(14,2): exact decimal arithmetic, never floats.

create table stores (
    id          text primary key,
    name        text not null,
    currency    char(3) not null,
    timezone    text not null,
    created_at  timestamptz not null default now()
);

-- Every deployment has the `default` store (USD, UTC); other stores are added by admins.
insert into stores (id, name, currency, timezone) values ('default', 'Default store', 'USD', 'UTC');

-- Only the SHA-256 of a key is stored: a leaked table does not leak usable keys.
create table api_keys (
    id          uuid primary key,
    name        text not null,
    role        text not null check (role in ('admin', 'writer', 'support', 'analyst')),
    store_id    text references stores (id),
    key_hash    bytea not null,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz,
    constraint api_keys_key_hash_key unique (key_hash)
);

create table products (
    id          uuid primary key,
    store_id    text not null references stores (id),
    sku         text not null,
    name        text not null,
    description text not null default '',
    category    text not null,
    price       numeric(14, 2) not null check (price >= 0),
    cost        numeric(14, 2) check (cost >= 0),
    -- The check is the last line of defence against overselling; reservations use
    -- a conditional update so they never reach it in normal operation. The upper
    -- bound keeps `stock + delta` (both at most 10^9) inside an integer.
    stock       integer not null check (stock >= 0 and stock <= 1000000000),
    active      boolean not null default true,
    version     integer not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint products_store_sku_key unique (store_id, sku)
);

create index products_store_category_idx on products (store_id, category, id);

-- A POST with an Idempotency-Key stores its response here, in the same transaction
-- as the write it made, so a retry replays exactly what the first attempt answered.
-- The row is claimed first: a concurrent retry blocks on it until the first commits.
create table idempotency_keys (
    api_key_id   uuid not null references api_keys (id),
    key          text not null,
    fingerprint  bytea not null,
    status       smallint,
    headers      jsonb,
    body         bytea,
    created_at   timestamptz not null default now(),
    primary key (api_key_id, key)
);

create index idempotency_keys_created_at_idx on idempotency_keys (created_at);
