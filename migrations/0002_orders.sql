-- Orders, their line items (product snapshots), and the timeline.

-- Human-facing order numbers, global so `GET /v1/orders/{number}` is unambiguous.
create sequence order_number_seq start with 1001;

-- Outbox change stamps: every order change takes the next value (invariant 2).
create sequence order_change_seq;

create table orders (
    id                uuid primary key,
    number            bigint not null default nextval('order_number_seq'),
    store_id          text not null references stores (id),
    external_id       text,
    status            text not null check (status in ('pending', 'processing', 'shipped', 'completed', 'cancelled')),
    customer_id       text,
    customer_email    text,
    customer_name     text,
    customer_phone    text,
    shipping_address  jsonb,
    tracking          jsonb,
    tags              text[] not null default '{}',
    note              text,
    total             numeric(14, 2) not null check (total >= 0),
    currency          char(3) not null,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    completed_at      timestamptz,
    cancelled_at      timestamptz,
    deleted_at        timestamptz,
    version           integer not null default 1,
    -- The outbox flag is "indexed_stamp < change_stamp": the indexer clears it only
    -- for the exact stamp it delivered, so a change made meanwhile is never lost.
    change_stamp      bigint not null default nextval('order_change_seq'),
    indexed_stamp     bigint not null default 0,
    constraint orders_number_key unique (number),
    constraint orders_store_external_id_key unique (store_id, external_id)
);

create index orders_store_created_idx on orders (store_id, created_at desc, id desc);
create index orders_created_idx on orders (created_at desc, id desc);
create index orders_customer_idx on orders (customer_id, created_at desc);
create index orders_email_idx on orders (lower(customer_email));
create index orders_outbox_idx on orders (change_stamp) where indexed_stamp < change_stamp;

create table order_items (
    order_id    uuid not null references orders (id),
    line        integer not null,
    product_id  uuid not null references products (id),
    sku         text not null,
    name        text not null,
    category    text not null,
    unit_price  numeric(14, 2) not null,
    unit_cost   numeric(14, 2),
    quantity    integer not null check (quantity > 0),
    line_total  numeric(14, 2) not null,
    primary key (order_id, line)
);

create index order_items_product_idx on order_items (product_id);

create table order_events (
    id           bigint generated always as identity primary key,
    order_id     uuid not null references orders (id),
    at           timestamptz not null default now(),
    kind         text not null,
    actor        text not null,
    from_status  text,
    to_status    text,
    data         jsonb not null default '{}'
);

create index order_events_order_idx on order_events (order_id, id);
