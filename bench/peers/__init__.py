"""(7) peers: our gateway side by side with LiteLLM's proxy and Portkey's gateway.

`run()` is in `bench.peers.compare`; the gateways are started by `bench.peers.gateways`,
measured by `bench.peers.measure` (with `bench.loadgen` and `bench.peers.wire`).
`package.json` and `package-lock.json` pin Portkey's gateway; `npm ci` installs it into
`node_modules/` (not committed) the first time the benchmark runs.
"""

from .compare import run

__all__ = ["run"]
