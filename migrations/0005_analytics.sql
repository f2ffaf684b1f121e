-- Analytics rollups (invariant 6): precomputed sales figures kept exactly in step
-- with the orders by `analytics::rollups::record_transition`, which runs inside
-- every order write transaction, and rebuilt from the orders by
-- `ordersearch rollups rebuild`.
--
-- Sales figures count orders that are neither cancelled nor deleted. Status
-- counts cover every order that is not deleted.
--
-- Days are the store's local calendar days (`stores.timezone`, which never
-- changes), so a DST day holds 23 or 25 hours of orders. Figures for a range
-- read whole months, whole 8-day blocks and whole days from here and the
-- partial edge days from the order rows, so a top-N over all history reads a
-- few thousand rows and one over any range at most ~20 rows per product.
--
-- Queries read a few thousand rows each: starting parallel workers costs more
-- than it saves, so the tables opt out of parallel scans (`parallel_workers = 0`).
--
-- Rows whose figures fall back to zero are deleted, so a rebuild produces
-- exactly the rows that live maintenance keeps. The tables carry no foreign
-- keys: they are derived data, and a foreign-key check would take a share lock
-- on the product row after the rollup row, the reverse of the order in which
-- order creation locks them (a deadlock waiting to happen).

-- The shard of an order: rows that nearly every order would touch (a category's
-- day, an hour, a status) are split 16 ways so concurrent writes of unrelated
-- orders rarely wait on the same row. Queries sum over shards.
create function analytics_shard(order_id uuid) returns smallint
    language sql immutable parallel safe
    return (get_byte(uuid_send(order_id), 15) % 16)::smallint;

-- The first instant of a local calendar day in `tz`. `timestamp at time zone`
-- picks the later instant for a local midnight that happens twice (a fall-back
-- at midnight) and skips forward over one that never happens; the earliest
-- candidate whose local date is `day` is the day's true start.
create function analytics_day_start(day date, tz text) returns timestamptz
    language sql stable parallel safe
    return (
        select min(candidate)
        from unnest(array[180, 120, 90, 60, 45, 30, 15, 0]) as back(minutes),
             lateral (select (day::timestamp at time zone tz) - make_interval(mins => back.minutes)) as c(candidate)
        where (candidate at time zone tz)::date >= day
    );

-- How rollups are grained in time: `day` rows for one local day, `block` rows
-- for days 1-8, 9-16, 17-24 and 25-end of a month (period = the block's first
-- day), `month` rows (period = the month's first day) and one `all` row
-- (period = -infinity). Blocks bound the day rows a range needs at its ends to
-- 7 per side. Writing every grain in the same statement keeps them equal by
-- construction.

-- Per store × product × period. One line per product per order (lines are
-- merged), but `orders` counts distinct orders all the same. Profit is
-- `costed_revenue - cost`, over the lines whose snapshot has a cost; the others
-- are counted in `lines_without_cost`, never taken as costing zero.
-- Not sharded: every write that touches a product's row already holds the
-- product's own row lock (stock reservation), so sharding would buy nothing.
create table analytics_product_sales (
    store_id            text not null,
    grain               text not null check (grain in ('day', 'block', 'month', 'all')),
    period              date not null,
    product_id          uuid not null,
    quantity            bigint not null,
    revenue             numeric not null,
    orders              bigint not null,
    lines               bigint not null,
    lines_without_cost  bigint not null,
    costed_revenue      numeric not null,
    cost                numeric not null,
    primary key (store_id, grain, period, product_id)
) with (parallel_workers = 0);

-- One product's figures over a range (`/products/{id}/sales`).
create index analytics_product_sales_product_idx
    on analytics_product_sales (product_id, grain, period);

-- Per store × category × period × shard: every order of a category would touch
-- the same unsharded row.
create table analytics_category_sales (
    store_id  text not null,
    grain     text not null check (grain in ('day', 'block', 'month', 'all')),
    period    date not null,
    category  text not null,
    shard     smallint not null,
    revenue   numeric not null,
    quantity  bigint not null,
    orders    bigint not null,
    primary key (store_id, grain, period, category, shard)
) with (parallel_workers = 0);

-- Per store × customer × local day. A customer has few order days, so all time
-- is a short primary-key range; first/last order times are exact per day (a
-- removal recomputes them from that day's orders).
create table analytics_customer_sales (
    store_id     text not null,
    customer_id  text not null,
    day          date not null,
    orders       bigint not null,
    revenue      numeric not null,
    first_at     timestamptz not null,
    last_at      timestamptz not null,
    primary key (store_id, customer_id, day)
) with (parallel_workers = 0);

-- Per store × UTC hour × shard.
create table analytics_hourly_sales (
    store_id  text not null,
    hour      timestamptz not null,
    shard     smallint not null,
    orders    bigint not null,
    revenue   numeric not null,
    primary key (store_id, hour, shard)
) with (parallel_workers = 0);

-- Per store × period × status × shard, over orders that are not deleted.
-- `processing_seconds` sums completed_at - created_at of completed orders.
create table analytics_status_counts (
    store_id            text not null,
    grain               text not null check (grain in ('day', 'block', 'month', 'all')),
    period              date not null,
    status              text not null,
    shard               smallint not null,
    orders              bigint not null,
    revenue             numeric not null,
    processing_seconds  numeric not null,
    primary key (store_id, grain, period, status, shard)
) with (parallel_workers = 0);

-- A customer's orders in one store, for exact first/last order times and for
-- the partial edge days of a lifetime-value range.
create index orders_store_customer_created_idx
    on orders (store_id, customer_id, created_at)
    where customer_id is not null;
