-- Webhooks (API.md "Events", way out 3): endpoints that receive the events of
-- the log they subscribe to, signed the Standard Webhooks way.
--
-- The dispatcher reads the log in commit order (its position is the
-- `webhooks` row of `event_readers`, so pruning never passes it) and writes
-- one delivery per (endpoint, event) in the same statement that moves its
-- position: a delivery exists exactly once for every event an endpoint
-- subscribed to. Each endpoint then has a sender of its own, so a slow or
-- dead endpoint delays nobody else, and nothing here touches the order write.
create table webhooks (
    id               uuid primary key,
    url              text not null,
    -- Wire names of the event types delivered; `{*}` for every type.
    types            text[] not null,
    -- Only this store's events; null for every store.
    store_id         text references stores (id),
    description      text,
    -- `enabled` delivers; `paused` keeps collecting deliveries and sends them
    -- on resume; `disabled` (by the service after failing for days, or by an
    -- admin) collects nothing.
    status           text not null default 'enabled'
                         check (status in ('enabled', 'paused', 'disabled')),
    -- Why the service disabled it, for its owner.
    disabled_reason  text,
    -- `whsec_<base64>`: signs every delivery. Kept in the clear because
    -- signing needs it (like any HMAC scheme); shown by the API only on
    -- creation and rotation.
    secret           text not null,
    -- The secret before the last rotation, also signed with until
    -- `previous_secret_expires_at`, so receivers can roll over without a gap.
    previous_secret  text,
    previous_secret_expires_at timestamptz,
    -- Since when every attempt has failed (null while it is healthy).
    failing_since    timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    version          integer not null default 1
);

create table webhook_deliveries (
    id               bigint generated always as identity primary key,
    webhook_id       uuid not null references webhooks (id) on delete cascade,
    -- `events.id`; no foreign key, since retention prunes events.
    event_id         bigint not null,
    event_type       text not null,
    -- The event's subject: one subject's deliveries go out in event order.
    subject_id       uuid not null,
    status           text not null default 'pending'
                         check (status in ('pending', 'delivered', 'failed')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    -- Retries stop here and the delivery is marked failed.
    give_up_at       timestamptz not null,
    created_at       timestamptz not null default now(),
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    last_latency_ms  integer,
    delivered_at     timestamptz,
    -- Also serves `GET /v1/webhooks/{id}/deliveries`, newest event first.
    unique (webhook_id, event_id)
);

-- A sender walks its endpoint's pending deliveries in event order.
create index webhook_deliveries_pending_idx on webhook_deliveries (webhook_id, event_id)
    where status = 'pending';
