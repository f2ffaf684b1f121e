-- The analytics rollups become a projection of the event log (invariant 6):
-- order writes no longer touch them; one projector (`analytics::projector`)
-- applies the order events in commit order, in batches, and stores its
-- position in `event_readers` (row `analytics`) in the same transaction.
--
-- The state each order contributes to the rollups as the projector last
-- applied it: its status, whether it is deleted, and the event version that
-- state came from. Undoing a contribution needs the state it left (a cancel
-- may leave `pending` or `processing`, which the event does not say), and the
-- version makes applying an event idempotent: an event at or below the kept
-- version is already counted (a rebuild reads the orders in one snapshot and
-- sets every version from it, so the events it covers are skipped when read).
-- The projector alone writes it.
create table analytics_projected_orders (
    order_id  uuid primary key,
    version   integer not null,
    status    text not null,
    deleted   boolean not null
);

-- On upgrade the rollups are exact (they were kept in step with every order
-- write until now), so the projection starts from the orders as they are and
-- from the head of the log.
insert into analytics_projected_orders (order_id, version, status, deleted)
select id, version, status, deleted_at is not null from orders;

insert into event_readers (name, xact_id, id)
select 'analytics', coalesce(h.xact_id, p.xact_id), coalesce(h.id, p.id)
from events_pruned p left join lateral (
    select xact_id, id from events
    where xact_id < pg_snapshot_xmin(pg_current_snapshot())
    order by xact_id desc, id desc limit 1
) h on true
on conflict (name) do nothing;
