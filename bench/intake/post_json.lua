-- wrk script for bench/intake/run.py: POST a JSON body, a new person on every request.
--
-- wrk -s post_json.lua URL -- TEMPLATE_FILE OFFSET PAYERS
--   TEMPLATE_FILE  a JSON body with placeholders __EMAIL__, __PHONE__, __PAYER__, __N__
--   OFFSET         integer added to every sequence number, so runs never repeat a person
--   PAYERS         "|"-separated values cycled through __PAYER__ (may be empty)
--
-- Each thread numbers its own requests (thread ids are given out in setup), so the email
-- and phone of every post are unique across threads and runs. Status codes are counted per
-- thread and printed once by done() as a single "BENCH_RESULT {json}" line.

local THREAD_STRIDE = 400000
-- The same as bodies.py: valid California area codes, 800 x 10,000 numbers each.
local AREA_CODES = {949, 714, 657, 562, 310, 213, 626, 818, 909, 951, 760, 619, 858, 415, 510, 408}
local NUMBERS_PER_AREA = 8000000

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

local template
local offset = 0
local payers = {}
local n = 0
statuses = {}
bad_sample = ""

function init(args)
  local file = assert(io.open(args[1], "r"))
  template = file:read("*a")
  file:close()
  offset = tonumber(args[2] or "0")
  for payer in string.gmatch(args[3] or "", "[^|]+") do
    table.insert(payers, payer)
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["User-Agent"] =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 " ..
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
end

function request()
  n = n + 1
  local k = offset + id * THREAD_STRIDE + n
  local rest = k % NUMBERS_PER_AREA
  local area = AREA_CODES[(math.floor(k / NUMBERS_PER_AREA) % #AREA_CODES) + 1]
  local values = {
    N = tostring(k),
    EMAIL = string.format("bench.%d@example.org", k),
    -- A valid US number as people type it, unique per k: (949) 200-0001 (as bodies.phone).
    PHONE = string.format("(%d) %d-%04d", area, 200 + math.floor(rest / 10000), rest % 10000),
    PAYER = (#payers > 0) and payers[(n % #payers) + 1] or "",
  }
  local body = string.gsub(template, "__(%u+)__", values)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if (status < 200 or status > 299) and bad_sample == "" then
    bad_sample = string.sub(body or "", 1, 300)
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local merged = {}
  local sample = ""
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses") or {}
    for code, count in pairs(counts) do
      merged[code] = (merged[code] or 0) + count
    end
    local bad = thread:get("bad_sample") or ""
    if sample == "" then
      sample = bad
    end
  end
  local parts = {}
  for code, count in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', code, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "stdev": %.1f, "max": %d, ' ..
    '"p50": %d, "p75": %d, "p90": %d, "p99": %d}, ' ..
    '"statuses": {%s}, "bad_sample": %s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99),
    table.concat(parts, ", "), json_string(sample)))
end
