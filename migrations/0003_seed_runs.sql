-- `ordersearch seed` runs: the parameters each seed's data was generated with.
--
-- Seeded orders carry `external_id = seed-<seed>-<ordinal>` and every chunk of
-- them is written in one transaction, so which orders a run already wrote is
-- read from the orders themselves (no separate progress record can disagree
-- with them). What the orders cannot tell is how they were generated: a later
-- run of the same seed must use the same stores and catalog size, or it would
-- produce different orders under the same ids; and `until` is kept so a run
-- resumed on another day still spreads its dates over the same two years.
create table seed_runs (
    seed        bigint primary key,
    stores      text[] not null,
    products    integer not null,
    until       date not null,
    created_at  timestamptz not null default now()
);
