"""What the test tiers and the benchmarks share: servers, processes and calls on loopback.

- `rawserver`: a raw HTTP server with a queue of canned responses and scripted faults,
  and a free loopback port;
- `gateway_process`: servers in processes of their own, `cf-aig serve` among them;
- `local_calls`: requests to a local gateway as a user sends them, and checks of its
  error bodies.

Imported as `tests.support` (the repository root is on the path: `python -m pytest`,
`python -m bench` and the editable install all put it there).
"""
