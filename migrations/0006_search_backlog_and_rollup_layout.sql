-- The outbox backlog in one statement (invariant 4). PostgreSQL estimates
-- `indexed_stamp < change_stamp` (two columns compared) at a third of the table
-- whatever the statistics say, and would plan a parallel full scan with JIT;
-- the function's own settings pin the plan to the outbox's partial index, which
-- holds just the flagged orders. A function with settings is never inlined, so
-- its body is planned under them, and they end with the call.
create function search_backlog(out pending_changes bigint, out lag_ms float8)
    language sql stable
    set enable_seqscan = off
    set enable_bitmapscan = off
    set max_parallel_workers_per_gather = 0
    set jit = off
    as $$
        select count(*), (extract(epoch from now() - min(updated_at)) * 1000)::float8
        from orders where indexed_stamp < change_stamp
    $$;

-- Rollup rows that a range reads together (one store × grain × period, or one
-- store's run of hours) lie together: `rollups rebuild` writes them in primary
-- key order, and the free room left on every page lets the in-place updates of
-- live order writes stay on their page (HOT) instead of scattering the rows.
alter table analytics_product_sales set (fillfactor = 80);
alter table analytics_category_sales set (fillfactor = 80);
alter table analytics_hourly_sales set (fillfactor = 80);
alter table analytics_status_counts set (fillfactor = 80);
alter table analytics_customer_sales set (fillfactor = 90);
