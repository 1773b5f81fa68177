"""Benchmarks of the client and the local gateway: ``python -m bench [NAME...]``.

Every figure is a ratio against a baseline measured in the same run, or a rate or
latency with its spread over repeated rounds; ``bench/RESULTS.md`` is rewritten each
run. ``BENCH_SCALE=0.1`` scales every count down for a quick look.
"""

BENCHMARKS = {
    "invoke": "bench.invoke",
    "streaming": "bench.streaming",
    "tls_streaming": "bench.tls_streaming",
    "litellm": "bench.litellm_handler",
    "concurrency": "bench.concurrency",
    "import": "bench.imports",
    "gateway": "bench.local_gateway",
    "peers": "bench.peers",
}
"""Benchmark name -> module with ``run() -> Section``, in report order."""
