"""The benchmark harness: `python bench/run.py` (see bench/README.md).

`run.py` is the command; `harness` runs the scenarios against a gateway and two sandboxes that
`stack` starts as separate processes; `loadgen` is the load driver, a process of its own;
`scenarios` says what each scenario asks and how much of its latency the providers impose;
`report` prints the table and writes the JSON and the picture.
"""
