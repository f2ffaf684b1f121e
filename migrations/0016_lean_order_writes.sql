-- Order commits no longer notify (issue 20, invariant 1). NOTIFY takes a
-- cluster-wide lock at commit and holds it through the WAL flush, so every
-- transaction that flagged an order waited for the others to commit: group
-- commit was lost on the write path. The indexer now looks for flagged orders
-- every few tens of milliseconds when idle, as the projector, the relay and
-- the webhook dispatcher do for the event log.
drop trigger orders_search_outbox_notify on orders;
drop function search_outbox_notify();
