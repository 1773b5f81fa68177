"""`python -m langchain_cf_gateway.cli`: the same as the `cf-aig` console script."""

import sys

from . import main

sys.exit(main())
