-- wrk driver for the `cairn serve` append load test (Benchmarks/HTTP/run.sh).
--
-- Every request is a POST /v1/entries with records no other request sends (run id, thread id and
-- a per-thread counter), so every acknowledged record is a new leaf, never a duplicate.
-- Environment: CAIRN_TOKEN (append token), CAIRN_BENCH_RUN (unique run id),
-- CAIRN_BENCH_BATCH (records per request, 1 = application/json, >1 = application/x-ndjson),
-- CAIRN_BENCH_PAD (bytes of padding per record).

local threads = {}
local next_id = 1

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    counter = 0
    ok = 0
    refused = 0
    failed = 0
    batch = tonumber(os.getenv("CAIRN_BENCH_BATCH") or "1")
    run = os.getenv("CAIRN_BENCH_RUN") or tostring(os.time())
    pad = string.rep("x", tonumber(os.getenv("CAIRN_BENCH_PAD") or "160"))
    headers = {
        ["Authorization"] = "Bearer " .. (os.getenv("CAIRN_TOKEN") or ""),
        ["Content-Type"] = batch == 1 and "application/json" or "application/x-ndjson",
    }
end

local function record()
    counter = counter + 1
    return string.format('{"type":"bench","run":"%s","thread":%d,"n":%d,"pad":"%s"}', run, id, counter, pad)
end

function request()
    local body
    if batch == 1 then
        body = record()
    else
        local lines = {}
        for i = 1, batch do lines[i] = record() end
        body = table.concat(lines, "\n") .. "\n"
    end
    return wrk.format("POST", "/v1/entries", headers, body)
end

function response(status, headers, body)
    if status == 200 then
        ok = ok + 1
    elseif status == 429 or status == 503 then
        refused = refused + 1
    else
        failed = failed + 1
        if failed <= 3 then io.stderr:write("HTTP " .. status .. ": " .. body .. "\n") end
    end
end

function done(summary, latency, requests)
    local totals = {ok = 0, refused = 0, failed = 0}
    for _, thread in ipairs(threads) do
        totals.ok = totals.ok + thread:get("ok")
        totals.refused = totals.refused + thread:get("refused")
        totals.failed = totals.failed + thread:get("failed")
    end
    io.write(string.format(
        '{"requests":%d,"ok":%d,"refused":%d,"failed":%d,"socket_errors":%d,"duration_us":%d,'
            .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
        summary.requests, totals.ok, totals.refused, totals.failed,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max))
end
