-- Shared helpers for the Commlog wrk scenarios (loaded with dofile by each
-- scenario script). Everything run-specific comes from the environment:
--   BENCH_TOKEN    bearer token of the big company's admin (required)
--   BENCH_LOG_IDS  comma-separated log ids of the big company (detail/update)
--   BENCH_SINCE    ISO 8601 UTC lower bound for the filtered list
--   BENCH_PAGE     page number for the deep-page list
--   BENCH_CHECK=1  print the first response (status and, on error, the body)
local M = {}

function M.env(name, default)
   local value = os.getenv(name)
   if value == nil or value == "" then
      if default ~= nil then
         return default
      end
      error(name .. " is not set")
   end
   return value
end

function M.ids()
   local ids = {}
   for id in M.env("BENCH_LOG_IDS"):gmatch("[^,%s]+") do
      ids[#ids + 1] = id
   end
   if #ids == 0 then
      error("BENCH_LOG_IDS holds no id")
   end
   return ids
end

wrk.headers["Authorization"] = "Bearer " .. M.env("BENCH_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

-- Only defined for the short check run: a response() callback makes wrk hand
-- every body to Lua, which would slow the measured runs down.
if os.getenv("BENCH_CHECK") == "1" then
   local shown = false
   function response(status, headers, body)
      if shown then
         return
      end
      shown = true
      local detail = ""
      if status < 200 or status >= 300 then
         detail = ": " .. string.sub(body or "", 1, 400)
      end
      io.write(string.format("    check: HTTP %d, %d bytes%s\n", status, #(body or ""), detail))
   end
end

return M
