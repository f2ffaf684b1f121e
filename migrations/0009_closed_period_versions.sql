-- Versions of closed periods' product figures, so the service can keep those
-- figures in memory (see `analytics::closed`) and still answer exactly.
--
-- A period (a product-sales `day`, `block` or `month` row set of one store) is
-- closed once its last local day is at least two days past. Nothing new is
-- sold in it any more, but a cancel or delete of one of its orders still
-- changes its figures: that write bumps the period's version here, in the same
-- transaction. A write only skips the bump for its own local today; a reader
-- keeps only periods that ended before yesterday, so the two can disagree
-- only about a write transaction open for more than a day.
--
-- A period with no row here has version 0. `rollups rebuild` rewrites every
-- figure behind the versions' back, so it bumps `analytics_rollup_epoch`,
-- which every kept figure is checked against too.
create table analytics_period_versions (
    store_id  text not null,
    grain     text not null check (grain in ('day', 'block', 'month')),
    period    date not null,
    version   bigint not null,
    primary key (store_id, grain, period)
);

create table analytics_rollup_epoch (
    epoch bigint not null
);
insert into analytics_rollup_epoch values (0);
