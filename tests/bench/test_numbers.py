"""The benchmark's arithmetic: percentiles by nearest rank, and the profile summary's shares."""

from __future__ import annotations

from pathlib import Path

from bench.loadgen import percentile
from bench.profiling import summarize


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_the_profile_summary_shares_samples_by_library_and_function(tmp_path: Path) -> None:
    raw = tmp_path / "p.txt"
    raw.write_text(
        'process 1:"serve";run (gateway/cli.py);validate (graphql/validation/validate.py) 3\n'
        'process 1:"serve";run (gateway/cli.py);to_invoice (providers/xendit/mapping.py) 1\n'
    )
    summary = summarize(raw)
    assert "4 samples" in summary
    assert "| graphql-core |  75.0 % |" in summary
    assert "| providers (ours) |  25.0 % |" in summary
    assert "| `validate (graphql/validation/validate.py)` |  75.0 % |" in summary
    # run (gateway/cli.py) is in every sample: an outer frame, left out of the total table
    assert "| `run (gateway/cli.py)` | 100.0 % |" not in summary
