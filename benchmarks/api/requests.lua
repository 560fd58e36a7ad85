-- wrk script shared by every run of benchmarks/api/bench.py (API and bare app alike).
--
--   wrk ... -s requests.lua URL -- MODE [FILE]
--
--   MODE list   GET /people
--   MODE byid   GET /people/<uuid>, rotating over the uuids in FILE (one per line)
--   MODE post   POST /people, rotating over the JSON bodies in FILE (one per line)
--   MODE mixed  nine GET /people, then one PUT /people/<uuid>, rotating over the "uuid<TAB>body"
--               lines in FILE: every PUT bumps the database's revision, so the workers' list
--               caches are invalidated while the list is read (PUT keeps the table's size)
--
-- Requests are formatted once per thread in init(); request() only hands them out, so the
-- modes cost wrk the same. done() prints one machine-readable line with exact
-- percentiles (microseconds), which bench.py parses.

local reqs = {}
local n = 0
local i = 0
local threads = 0

-- runs in wrk's main Lua state, once per thread: give each thread its own number
function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

local function lines(path)
  local out = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if line ~= "" then
      out[#out + 1] = line
    end
  end
  f:close()
  assert(#out > 0, "no lines in " .. path)
  return out
end

function init(args)
  local mode = args[1] or "list"
  if mode == "list" then
    reqs[1] = wrk.format("GET", "/people", { ["Accept"] = "application/json" })
  elseif mode == "byid" then
    for _, id in ipairs(lines(args[2])) do
      reqs[#reqs + 1] = wrk.format("GET", "/people/" .. id, { ["Accept"] = "application/json" })
    end
  elseif mode == "mixed" then
    local get = wrk.format("GET", "/people", { ["Accept"] = "application/json" })
    local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
    for _, line in ipairs(lines(args[2])) do
      local id, body = line:match("^([^\t]+)\t(.+)$")
      assert(id, "expected uuid<TAB>body lines in " .. args[2])
      for _ = 1, 9 do
        reqs[#reqs + 1] = get
      end
      reqs[#reqs + 1] = wrk.format("PUT", "/people/" .. id, headers, body)
    end
  elseif mode == "post" then
    local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
    for _, body in ipairs(lines(args[2])) do
      reqs[#reqs + 1] = wrk.format("POST", "/people", headers, body)
    end
  else
    error("unknown mode " .. mode)
  end
  n = #reqs
  -- threads start at different offsets so they do not ask for the same row in lockstep
  i = ((thread_no or 0) * 7919) % n
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)
  ))
end
