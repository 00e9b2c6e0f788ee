-- GET filtered list: email logs of the last 30 days, 25 per page.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

wrk.method = "GET"
wrk.path = "/api/communication-logs/?channel=email&start_time_after="
   .. common.env("BENCH_SINCE") .. "&page_size=25"
