-- wrk script for benchmarks/bench_api.py: POST pre-built bodies, round robin, and report.
--
--   wrk -t1 -c64 -d10s -s benchmarks/wrk_post.lua http://127.0.0.1:PORT/topics/T -- BODIES TYPE
--
-- BODIES is a file with one request body per line (compact JSON has no raw newline); TYPE is
-- the Content-Type. Every thread formats all requests once in init(), so request() only picks
-- the next string. request() counts the requests each thread started, so the benchmark can
-- tell how many were still in flight when wrk stopped at its deadline (wrk abandons those: the
-- server may store them, but their responses are never read). done() prints one line
-- "WRK_JSON {...}" with the counts and the latency percentiles in microseconds.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local formatted = {}
local next_index = 0
started = 0 -- global: read by done() through thread:get("started")

function init(args)
   local path, content_type = args[1], args[2]
   local headers = { ["Content-Type"] = content_type }
   for line in io.lines(path) do
      if #line > 0 then
         formatted[#formatted + 1] = wrk.format("POST", nil, headers, line)
      end
   end
   if #formatted == 0 then
      error("no request bodies in " .. tostring(path))
   end
   next_index = math.random(#formatted) - 1 -- threads start at different bodies
end

function request()
   started = started + 1
   next_index = next_index % #formatted + 1
   return formatted[next_index]
end

function done(summary, latency, requests)
   -- wrk calls the first thread's request() once more, to check the request it returns.
   local total_started = -1
   for _, thread in ipairs(threads) do
      total_started = total_started + thread:get("started")
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"duration_us":%d,"completed":%d,"started":%d,"bytes":%d,'
         .. '"non_2xx_3xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
         .. '"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.duration, summary.requests, total_started, summary.bytes,
      e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean
   ))
end
