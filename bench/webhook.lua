-- wrk script for bench.intake: POST one signed webhook body with a unique X-GitHub-Delivery per request.
-- Environment: BENCH_BODY (path of the payload), BENCH_SIGNATURE, BENCH_EVENT, BENCH_UNIQUE ("1" or "0"),
-- BENCH_RUN (an id unique to this wrk run).
-- BENCH_RUN makes delivery ids unique across runs; setup() gives each thread its own prefix.
counter = 0
threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("prefix", "w" .. threads .. "-")
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = os.getenv("BENCH_EVENT")
  wrk.headers["X-Hub-Signature-256"] = os.getenv("BENCH_SIGNATURE")
  wrk.headers["User-Agent"] = "GitHub-Hookshot/bench"
  unique = os.getenv("BENCH_UNIQUE") == "1"
  run = os.getenv("BENCH_RUN")
end

function request()
  counter = counter + 1
  if unique then
    wrk.headers["X-GitHub-Delivery"] = run .. "-" .. prefix .. counter
  else
    wrk.headers["X-GitHub-Delivery"] = "same"
  end
  return wrk.format()
end
