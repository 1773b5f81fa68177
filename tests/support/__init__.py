"""What the test tiers and the benchmarks share: servers, processes and calls on loopback.

- `rawserver`: a raw HTTP server with a queue of canned responses and scripted faults,
  and a free loopback port;
- `processes`: servers in processes of their own (`ServerProcess`);
- `gateway_process`: the local gateway in its own process (`cf-aig serve`);
- `local_calls`: requests to a local gateway as a user sends them, and checks of its
  error bodies.

Imported as `tests.support` (the repository root is on the path: `python -m pytest`,
`python -m bench` and the editable install all put it there).
"""
