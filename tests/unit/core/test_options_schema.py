"""`GatewayOptions` and `GatewayConfig` at import: described, and built on first use.

Their validators are built when first needed (pydantic's `defer_build`), and the
descriptions of `GatewayOptions`'s fields are the docstrings under them, read from the
class's source (what `use_attribute_docstrings` did, without its walk of the importing
frames, which scanned every loaded module on Python < 3.13).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from langchain_cf_gateway import GatewayOptions

PROBE = """
import json
import langchain_cf_gateway
from langchain_cf_gateway.core import GatewayConfig, GatewayOptions
print(json.dumps([GatewayConfig.__pydantic_complete__, GatewayOptions.__pydantic_complete__]))
"""


def test_import_builds_neither_model() -> None:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, False]


def test_every_field_is_described_by_its_docstring() -> None:
    fields = GatewayOptions.model_fields
    assert all((f.description or "").startswith("`cf-aig-") for f in fields.values())
    assert (
        fields["cache_ttl"].description == "`cf-aig-cache-ttl`: seconds, 60 to 2,592,000 (30 days)."
    )
    # Multi-line docstrings are cleaned as pydantic cleans them.
    assert fields["allowed_models"].description == (
        '`cf-aig-allowed-models`: the Auto Router\'s pool, e.g. `["anthropic/*"]` (sent\n'
        "comma-separated; `*` is a whole path segment and does not cross `/`)."
    )


def test_the_json_schema_carries_the_descriptions() -> None:
    schema = GatewayOptions.model_json_schema()
    assert schema["properties"]["skip_cache"]["description"] == (
        "`cf-aig-skip-cache: true`: bypass the cache for this request."
    )
    assert GatewayOptions(cache_ttl=60).cache_ttl == 60


def test_empty_options_are_still_exported() -> None:
    from langchain_cf_gateway.core.options import EMPTY_OPTIONS

    assert EMPTY_OPTIONS.is_empty()
    assert GatewayOptions() == EMPTY_OPTIONS
