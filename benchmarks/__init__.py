"""Side-by-side benchmarks; they print a table and write JSON, and never run in the test suite."""
