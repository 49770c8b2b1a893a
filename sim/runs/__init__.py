"""Running scenarios: scenario files, ensembles and their executors, results, comparisons, sweeps and designs."""
