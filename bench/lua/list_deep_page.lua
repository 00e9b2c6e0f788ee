-- GET a deep offset page of the unfiltered list (page 2000 at 1,000,000 rows).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

wrk.method = "GET"
wrk.path = "/api/communication-logs/?page=" .. common.env("BENCH_PAGE", "2000") .. "&page_size=25"
