-- Search outbox bookkeeping (the flag itself is orders.indexed_stamp < orders.change_stamp).

-- One row. `generation` changes when a rebuilt index is swapped in: an indexer
-- batch read under an older generation acknowledges nothing, so every change made
-- during a rebuild is delivered to the new index too.
create table search_state (
    singleton        boolean primary key default true check (singleton),
    generation       bigint not null default 1,
    last_indexed_at  timestamptz
);

insert into search_state default values;

-- Documents the engine refused: retried with backoff, never blocking the others.
create table search_failures (
    order_id         uuid primary key references orders (id),
    attempts         integer not null,
    last_error       text not null,
    next_attempt_at  timestamptz not null,
    updated_at       timestamptz not null default now()
);
