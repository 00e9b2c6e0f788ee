-- POST a new phone call log of the contact BENCH_CONTACT_ID (expects 201).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "common.lua")

wrk.method = "POST"
wrk.path = "/api/communication-logs/"
wrk.body = string.format(
   '{"communication_type":"call","channel":"phone","direction":"inbound",'
      .. '"start_time":"2026-11-20T10:00:00Z","end_time":"2026-11-20T10:05:00Z",'
      .. '"contact_id":"%s","content":"The subject asked about the renewal of their contract."}',
   common.env("BENCH_CONTACT_ID"))
