-- Saved searches: a named staff query (and sort), owned by the key that saved
-- it, private or shared with the keys of the same store scope.
--
-- `store_id` is the owner's scope when it was saved (null: an unscoped key): a
-- shared search reaches the keys scoped to that store, and unscoped keys, which
-- see every store, see every shared search (`src/saved/mod.rs`, `VISIBLE`). A
-- key's later revocation leaves its shared searches in place for the team.
-- Names are unique per owner: two tabs with one name would be indistinguishable
-- in the console. `version` is the ETag a rename or re-query must match.
create table saved_searches (
    id uuid primary key,
    owner_key_id uuid not null references api_keys (id),
    store_id text references stores (id),
    name text not null,
    q text not null,
    sort text,
    shared boolean not null default false,
    version int not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint saved_searches_owner_name_key unique (owner_key_id, name)
);

-- A team's shared searches, listed on every console load.
create index saved_searches_shared on saved_searches (store_id) where shared;
