-- Folding the shards of closed periods (see `analytics::compact`).
--
-- Shards exist so concurrent writes of unrelated orders rarely wait on the same
-- row, which matters only while a period takes new orders. Once a day, block,
-- month or hour is over, its up to 16 shard rows are folded into the shard-0
-- row, so a range reads one row per key instead of up to 16 (an hourly report
-- over a year reads ~9 000 rows instead of ~110 000). Folding keeps every sum;
-- a later change to a folded period (a cancel, a delete) simply lands in its
-- own shard row again and is folded next time.
--
-- `rollups rebuild` writes every row in shard 0. The rows not in shard 0 are
-- then only the few written live since, and these partial indexes find them.
create index analytics_category_sales_unfolded_idx
    on analytics_category_sales (grain, period) where shard <> 0;
create index analytics_hourly_sales_unfolded_idx
    on analytics_hourly_sales (hour) where shard <> 0;
create index analytics_status_counts_unfolded_idx
    on analytics_status_counts (grain, period) where shard <> 0;
