-- GET one log by id, cycling through the ids in BENCH_LOG_IDS.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

local ids = common.ids()
local n = 0

wrk.method = "GET"

function request()
   n = n + 1
   return wrk.format(nil, "/api/communication-logs/" .. ids[(n % #ids) + 1] .. "/")
end
