-- Waking the indexer (invariant 3). Every statement that flags orders (a new
-- order, or `change_stamp` taken anew) notifies `search_outbox` once; PostgreSQL
-- delivers it when the transaction commits, so the change it announces is
-- visible by then, and folds repeats within one transaction into one. The
-- indexer listens and otherwise polls only seldom, as a safety net for
-- notifications lost while its listening connection reconnects (and for the
-- re-flagging done by `reindex` and `reconcile`, which do not notify).
create function search_outbox_notify() returns trigger
    language plpgsql
    as $$
        begin
            perform pg_notify('search_outbox', '');
            return null;
        end
    $$;

create trigger orders_search_outbox_notify
    after insert or update of change_stamp on orders
    for each statement execute function search_outbox_notify();
