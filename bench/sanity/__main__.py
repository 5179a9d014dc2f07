"""`python -m bench.sanity`: the same as `invoke sanity`."""
import sys

from .cli import main

sys.exit(main())
