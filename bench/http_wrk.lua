-- http_bench.py's shop with wrk (--client wrk): POST /v1/holds, one line a request, a fresh
-- Idempotency-Key each, on the cells of a file, until every cell is held once.
-- wrk -t1 -c N -d 600s -s http_wrk.lua URL -- KEY TAG CELLS_FILE
-- Globals, not locals: done() reads them from each thread's state (thread:get).

sent, got, failed, first = 0, 0, 0, ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  auth = "Bearer " .. args[1]
  tag = args[2]
  cells = {}
  for line in io.lines(args[3]) do
    local rid, day = line:match("^(%d+) (%S+)$")
    cells[#cells + 1] = '{"email":"bench@example.com","lines":[{"resource_id":' .. rid
      .. ',"date":"' .. day .. '","quantity":1}]}'
  end
end

function request()
  sent = sent + 1
  local headers = {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = tag .. "-" .. sent,
  }
  return wrk.format("POST", "/v1/holds", headers, cells[(sent - 1) % #cells + 1])
end

function response(status, headers, body)
  got = got + 1
  if status ~= 201 then
    failed = failed + 1
    if first == "" then first = (status .. " " .. body:sub(1, 200)):gsub("%c", " ") end
  end
  -- The requests still in flight on the other connections are dropped, unanswered. wrk's
  -- main thread sleeps out -d whatever its threads do: http_wrk.py interrupts it on "done".
  if got == #cells then
    wrk.thread:stop()
    io.stderr:write("done\n")
    io.stderr:flush()
  end
end

function done(summary, latency, requests)
  local nfailed, firsts = 0, ""
  for _, t in ipairs(threads) do
    nfailed = nfailed + t:get("failed")
    if firsts == "" then firsts = t:get("first") end
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, '
      .. '"failed": %d, "socket_errors": %d, "first": %q}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, nfailed, e.connect + e.read + e.write + e.timeout, firsts))
end
