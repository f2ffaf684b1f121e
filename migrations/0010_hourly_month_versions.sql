-- Versions of closed UTC months of hourly sales, so the service can keep a
-- month's hours in memory as it keeps product figures (migration 0009; see
-- `analytics::hourly`). Hourly sales are by UTC hour, and a UTC hour need not
-- lie in one local day of the store (zones of a half-hour offset), so they get
-- a grain of their own: `utc_month`, the period being the first day of the
-- UTC month of the order's `created_at`.
--
-- A write bumps it wherever it bumps the local periods: a cancel or delete of
-- an order of a past local day. A reader keeps only months that ended at least
-- two days ago, whose orders all lie on past local days, so the same
-- assumption holds as in 0009: no write transaction stays open for a day.
alter table analytics_period_versions drop constraint analytics_period_versions_grain_check;
alter table analytics_period_versions add constraint analytics_period_versions_grain_check
    check (grain in ('day', 'block', 'month', 'utc_month'));
