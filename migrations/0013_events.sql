-- The event log (API.md "Events"; invariant 8). Every committed change to an
-- order or a product appends its event in the change's own transaction, so an
-- event exists exactly when its change does. Readers (the pull feed now; the
-- relay and webhooks later) follow the log at their own pace.
--
-- `id` is an identity: unique, never reused, and the tie-break between the
-- events of one transaction. The API shows it as the string `evt_<id>`, a
-- stable id consumers dedupe on; it is not a position (a transaction that took
-- id 10 can commit after one that took 11), so nobody pages by it.
--
-- `xact_id` is the position in commit order. A reader only reads events whose
-- `xact_id` is below `pg_snapshot_xmin(pg_current_snapshot())`: every
-- transaction below that has ended, and any transaction still to commit has an
-- id at or above it, so nothing can appear later behind a reader's cursor.
-- Writers set it to their transaction id, or to the subject's previous event's
-- `xact_id` when that is larger: a transaction can take its id before it waits
-- for the subject's row lock (an idempotency key claimed first, say), and one
-- subject's events must still come in `subject_version` order. Either value
-- is at least the writer's own id, so the guard above still holds.
create table events (
    id               bigint generated always as identity primary key,
    type             text not null,
    created_at       timestamptz not null default now(),
    store_id         text not null,
    subject_id       uuid not null,
    subject_version  integer not null,
    -- The resource as committed: the order with its items, or the product,
    -- exactly as `GET /v1/orders/{id}` or `GET /v1/products/{id}` shows it.
    data             jsonb not null,
    -- Members beside `data` for some types: `from` and `to` of
    -- `order.status_changed`.
    detail           jsonb,
    xact_id          xid8 not null default pg_current_xact_id()
);

-- The feed reads in (xact_id, id) order after a cursor.
create index events_position_idx on events (xact_id, id);
-- A writer finds the subject's latest position (see `xact_id` above).
create index events_subject_idx on events (subject_id, xact_id);
-- Retention prunes by age; rows arrive nearly in time order, so a BRIN index
-- finds the old ones at almost no cost to the writes.
create index events_created_brin on events using brin (created_at);

-- How far retention has pruned: the position of the newest event deleted.
-- A cursor below it may have missed events, and is answered `410`.
create table events_pruned (
    singleton  boolean primary key default true check (singleton),
    xact_id    xid8 not null default '0',
    id         bigint not null default 0
);
insert into events_pruned default values;

-- Readers that keep a position in the log (the relay and webhooks, when they
-- come): pruning never passes the slowest one (invariant 8).
create table event_readers (
    name        text primary key,
    xact_id     xid8 not null default '0',
    id          bigint not null default 0,
    updated_at  timestamptz not null default now()
);

-- `product.stock_low` is emitted when a product's stock goes from at or above
-- its threshold to below it.
alter table products
    add column low_stock_threshold integer not null default 5
        check (low_stock_threshold >= 0);
