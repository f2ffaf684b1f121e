-- Progress of `ordersearch seed`, so an interrupted run resumes where it stopped.

-- One row per seed: the parameters every chunk of that seed was generated with.
-- A later run with the same seed must use the same ones (or it would generate
-- different orders under the same external ids); `until` is kept so that a run
-- resumed on another day still spreads its dates over the same two years.
create table seed_runs (
    seed        bigint primary key,
    stores      text[] not null,
    products    integer not null,
    until       date not null,
    created_at  timestamptz not null default now()
);

-- One row per written chunk (a range of order ordinals), inserted in the same
-- transaction as the chunk's orders: a chunk is either fully written and
-- recorded, or neither, so a re-run skips exactly what is done and fills any gap.
create table seed_chunks (
    seed           bigint not null references seed_runs (seed),
    first_ordinal  bigint not null,
    orders         bigint not null check (orders > 0),
    written_at     timestamptz not null default now(),
    primary key (seed, first_ordinal)
);
