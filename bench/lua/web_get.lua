-- GET a web page with the session cookie (BENCH_COOKIE). BENCH_PATH is the page; a "{id}" in it
-- is replaced by the ids of BENCH_LOG_IDS in turn (log detail pages).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

local path = common.env("BENCH_PATH")
local ids = nil
if path:find("{id}", 1, true) then
   ids = common.ids()
end
local n = 0

wrk.method = "GET"
wrk.headers["Authorization"] = nil
wrk.headers["Accept"] = "text/html"
wrk.headers["Cookie"] = common.env("BENCH_COOKIE")

function request()
   n = n + 1
   if ids then
      return wrk.format(nil, (path:gsub("{id}", ids[(n % #ids) + 1])))
   end
   return wrk.format(nil, path)
end
