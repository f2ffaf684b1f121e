-- The outbox backlog with the flagged orders' current versions, when there are
-- at most `listed` of them, in the one statement every search already makes.
--
-- A hit is stale when the database holds a newer version than the one indexed.
-- An order that is not flagged has had its current version delivered and
-- confirmed by the engine, so only flagged orders can be stale: with the
-- flagged orders' versions read beside the engine call, a search no longer
-- waits for the hits to look their versions up (one round trip less). A
-- longer backlog (after a bulk load, with the engine down) lists nothing, and
-- the caller looks the hits up as before. The counts are 0006's
-- `search_backlog()`; the listing's plan is pinned the same way.
create function search_backlog_versions(
    listed int,
    out pending_changes bigint, out lag_ms float8, out ids uuid[], out versions int[])
    language sql stable
    set enable_seqscan = off
    set enable_bitmapscan = off
    set max_parallel_workers_per_gather = 0
    set jit = off
    as $$
        select b.pending_changes, b.lag_ms,
               coalesce(l.ids, '{}'), coalesce(l.versions, '{}')
        from search_backlog() b cross join lateral (
            select array_agg(p.id) as ids, array_agg(p.version) as versions
            from (
                select id, version from orders where indexed_stamp < change_stamp
                limit listed + 1
            ) p
        ) l
    $$;
