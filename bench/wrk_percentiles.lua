-- Prints the latency percentiles wrk's --latency report lacks (p95), in microseconds.
done = function(summary, latency, requests)
  io.write(string.format(
    "percentiles p50=%d p95=%d p99=%d requests=%d non2xx=%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.errors.status
  ))
end
