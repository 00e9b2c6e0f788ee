-- GET one analytics report with a different period on every request, so that no answer is
-- served from the report cache: what making a report costs. BENCH_PATHS_FILE holds one path
-- and query string per line (bench/analytics.py writes it: the same report, its start moved back
-- by 0, 1, 2 … hours); each request takes a line at random.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

local paths = {}
for line in io.lines(common.env("BENCH_PATHS_FILE")) do
   paths[#paths + 1] = line
end
if #paths == 0 then
   error("BENCH_PATHS_FILE holds no path")
end
-- Each wrk thread draws its own sequence.
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)

request = function()
   return wrk.format("GET", paths[math.random(#paths)])
end
