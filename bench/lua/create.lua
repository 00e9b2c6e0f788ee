-- POST a new phone call log (expects 201).
dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

local now = os.time()
local function iso(t)
   return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

wrk.method = "POST"
wrk.path = "/api/communication-logs/"
wrk.body = string.format(
   '{"communication_type":"call","channel":"phone","direction":"outbound",'
      .. '"start_time":"%s","end_time":"%s",'
      .. '"content":"Benchmark call about the renewal and pricing."}',
   iso(now - 600), iso(now - 300))
