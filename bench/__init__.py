"""The benchmarks of shelf-node: measurement code kept out of the product (not shipped in the wheel).

Each `bench/<name>.py` that defines `BENCHMARK = Benchmark(...)` is one benchmark (found by
`bench.benchmark.discover`); `scripts/bench` runs them and rewrites docs/benchmarks.md. The other modules
here are what only the benchmarks use (scorers against the simulator's truth, comparators, renderers).
bench/ may import edge/; nothing in edge/ imports bench/ (tests/test_architecture.py).
"""
