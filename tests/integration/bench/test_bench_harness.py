"""`python -m bench` end to end at a tiny scale: every benchmark runs and is reported.

No timing is asserted (the figures of a loaded CI machine mean nothing); what is checked
is that every benchmark ran its rounds against its baseline, measured the package's part,
and that RESULTS.md states every figure with its goal and verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench
import bench.imports
import bench.local_gateway
from bench.__main__ import main


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_SCALE", "0.004")
    # Interpreter start-ups instead of 3-second imports: the machinery is the same.
    monkeypatch.setattr(
        bench.imports,
        "STATEMENTS",
        {
            "python": "pass",
            "langchain_openai": "import json",
            "langchain_cf_gateway": "import json",
            "ChatOpenAI": "import json",
            "ChatCloudflareGateway": "import json",
        },
    )
    monkeypatch.setattr(bench.local_gateway, "RATES", (100, 500))
    monkeypatch.setattr(bench.local_gateway, "SECONDS", 0.05)


def test_every_benchmark_runs_and_is_reported(tiny: None, tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert main(["--out", str(out)]) == 0
    text = out.read_text()
    data = json.loads((tmp_path / "results.json").read_text())

    assert list(data["sections"]) == list(bench.BENCHMARKS)
    for name in bench.BENCHMARKS:
        section = data["sections"][name]["section"]
        assert f"## {section['title']}" in text
        for figure in section["figures"]:
            # Each figure is a row of its section's table, goal and verdict included.
            assert f"| {figure['name']} |" in text
            if figure["goal"] is not None:
                assert figure["values"], f"{name}: {figure['name']} was not measured"
    for package in ("langchain-core", "langchain-openai", "openai", "litellm", "httpx"):
        assert package in text

    figures = {
        f["name"]: f["values"] for s in data["sections"].values() for f in s["section"]["figures"]
    }
    # Two interleaved rounds at this scale, each a ratio against its own round's baseline.
    assert len(figures["ChatCloudflareGateway.invoke / ChatOpenAI.invoke"]) == 2
    assert len(figures["custom provider / stock openai/, streaming"]) == 2
    assert figures["ChatCloudflareGateway errors (all rounds)"] == [0.0]
    assert figures["errors and non-200 answers (all runs)"] == [0.0]
    # Every cache-test response after the first was a HIT, counted at the client.
    assert figures["share of cache-test answers that were HITs"] == [1.0]
    # The peers: ours passed every request through, and was measured against the same
    # direct baseline as the peers that ran here.
    assert figures["ours: errors and non-200 responses (all runs)"] == [0.0]
    assert len(figures["ours: added p50, sequential"]) == 1
    assert figures["ours: cache hits per second"][0] > 0
