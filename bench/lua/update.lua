-- PATCH the priority of a log, cycling through the ids in BENCH_LOG_IDS and
-- alternating between "high" and "low" (expects 200).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

local ids = common.ids()
local bodies = { '{"priority":"high"}', '{"priority":"low"}' }
local n = 0

wrk.method = "PATCH"

function request()
   n = n + 1
   local id = ids[(n % #ids) + 1]
   local body = bodies[(math.floor(n / #ids) % 2) + 1]
   return wrk.format(nil, "/api/communication-logs/" .. id .. "/", nil, body)
end
