"""The daily cycle engine (docs/strategy.md): ``run_cycle`` and its error.

Split by noun: ``config`` (the configuration, checked), ``facts`` (phase 2), ``stages``
(3), ``assignment`` (segments, strategies, variants: 4–6), ``steps`` (due steps, catch-up,
actions, messages, tasks: 7), ``priority`` (8) and ``run`` (the run record, chunks,
checkpoints, dry run).
"""

from .assignment import variant_bucket
from .config import CycleError
from .run import run_cycle

__all__ = ["CycleError", "run_cycle", "variant_bucket"]
