-- GET full-text search for a rare term (about 1 log in 10,000 contains it).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

wrk.method = "GET"
wrk.path = "/api/communication-logs/?search=" .. common.env("BENCH_SEARCH_TERM", "quetzal")
