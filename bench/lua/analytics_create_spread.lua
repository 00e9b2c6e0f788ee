-- POST a new phone call log (expects 201), like create.lua, but each request dated a different
-- hour of the last 90 days: the logs land in different rows of the hourly analytics rollup
-- instead of all in one (create.lua dates every log the same minute).
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

local now = os.time()
local threads = 0
local n = 0

local function iso(t)
   return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

-- Runs in the main state: number the threads so they walk different hours.
function setup(thread)
   threads = threads + 1
   thread:set("offset", threads * 997)
end

function request()
   n = n + 1
   local start = now - 600 - 3600 * ((n + (offset or 0)) % 2160)
   local body = string.format(
      '{"communication_type":"call","channel":"phone","direction":"outbound",'
         .. '"start_time":"%s","end_time":"%s",'
         .. '"content":"Benchmark call about the renewal and pricing."}',
      iso(start), iso(start + 300))
   return wrk.format("POST", "/api/communication-logs/", nil, body)
end
