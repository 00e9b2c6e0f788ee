-- GET one analytics report. BENCH_PATH is its path and query string, e.g.
-- /api/analytics/volume/?since=2026-08-01T00:00:00Z&until=2026-10-30T00:00:00Z&bucket=day
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

wrk.method = "GET"
wrk.path = common.env("BENCH_PATH")
