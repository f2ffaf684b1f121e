-- Imports of order history (API.md "Imports").
--
-- `(store_id, external_id)` is already unique on orders (0002,
-- `orders_store_external_id_key`): an import inserts with
-- `on conflict (store_id, external_id) do nothing`, so a re-run, or two runs
-- at once, never create an order twice.

-- Whether an order's items hold stock. Orders made through the API reserve
-- their stock when they are created; imported history does not (unless the
-- operator asked for `--reserve-stock`), so cancelling or deleting such an
-- order must give nothing back.
alter table orders add column stock_reserved boolean not null default true;

-- One import run: where it reads from, with which options, how far it got and
-- what it did. `position` is written in the same transaction as the orders of
-- each batch, so after a crash the run goes on exactly after the last batch
-- that committed: nothing twice, nothing skipped.
create table import_runs (
    id           uuid primary key,
    -- `file`, `http` or `api`.
    kind         text not null check (kind in ('file', 'http', 'api')),
    -- The paths or the URL, for people reading `import status`.
    source       text not null,
    -- A hash of the source and the options: running the same command again
    -- resumes the newest unfinished run with the same fingerprint.
    fingerprint  text not null,
    -- The store orders without a `store` go to.
    store_id     text not null references stores (id),
    options      jsonb not null default '{}',
    -- Files: `{file, record, offset}` (the file's index, records and bytes
    -- consumed in it); HTTP: `{page, url}` (the next page to read).
    position     jsonb not null default '{}',
    dry_run      boolean not null default false,
    status       text not null default 'running'
                 check (status in ('running', 'done', 'failed')),
    read         bigint not null default 0,
    created      bigint not null default 0,
    updated      bigint not null default 0,
    unchanged    bigint not null default 0,
    rejected     bigint not null default 0,
    -- The first rejected orders (`[{line, external_id, error}]`); the rejects
    -- file has them all.
    errors       jsonb not null default '[]',
    -- Why a failed run stopped.
    failure      text,
    started_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    finished_at  timestamptz
);

create index import_runs_fingerprint_idx on import_runs (fingerprint, started_at desc);
create index import_runs_started_idx on import_runs (started_at desc);
