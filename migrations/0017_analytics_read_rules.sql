-- The analytics rules every query shares, written once (issue 20, read side),
-- and a simpler stamp for the figures the service keeps in memory.
--
-- "Counts as a sale": an order neither cancelled nor deleted. Rollups, the
-- partial edge days read from the orders, the rebuild and the projector's
-- recomputation of first/last order times all call this; being a plain SQL
-- expression, PostgreSQL inlines it, so index predicates still match.
create function analytics_sells(status text, deleted boolean) returns boolean
    language sql immutable parallel safe
    return status <> 'cancelled' and not deleted;

-- The store's local day of an instant: what every local period is made of
-- (the first instant of a local day is `analytics_day_start`, migration 0005).
create function analytics_local_day(at timestamptz, tz text) returns date
    language sql stable parallel safe
    return (at at time zone tz)::date;

-- The first day of the period of `grain` a local `day` falls in: blocks are
-- days 1-8, 9-16, 17-24 and 25-end of a month; `all` is `-infinity`. The
-- service's `analytics::period::Grain` holds the same rule.
create function analytics_period_start(grain text, day date) returns date
    language sql immutable parallel safe
    return case grain
        when 'day' then day
        when 'block' then day - (extract(day from day)::int - 1) % 8
        when 'month' then date_trunc('month', day::timestamp)::date
        when 'all' then '-infinity'::date
    end;

-- With one writer (the projector), figures the service keeps in memory need
-- one rule: a kept period is valid while nothing has changed it since it was
-- read. Every transaction that changes a period's product rows (a `day`,
-- `block`, `month` or `all`, whose period is `-infinity`) or its hourly rows
-- (a `utc_month`) stamps the period with its own transaction
-- id in that transaction: a projector batch, or a rebuild, which stamps every
-- period it wrote. Transaction ids never repeat, so a stamp that has not moved
-- means rows that have not changed. A period without a stamp has no rows.
--
-- This replaces the period versions and the rollup epoch of migrations 0009
-- and 0010, and their two ideas of when a period is closed.
create table analytics_period_stamps (
    store_id  text not null,
    grain     text not null check (grain in ('all', 'day', 'block', 'month', 'utc_month')),
    period    date not null,
    stamp     bigint not null,
    primary key (store_id, grain, period)
);

insert into analytics_period_stamps (store_id, grain, period, stamp)
select store_id, grain, period, pg_current_xact_id()::text::bigint
from (
    select distinct store_id, grain, period from analytics_product_sales
    union
    select distinct store_id, 'utc_month', date_trunc('month', hour at time zone 'UTC')::date
    from analytics_hourly_sales
) periods;

drop table if exists analytics_period_versions;
drop table if exists analytics_rollup_epoch;
