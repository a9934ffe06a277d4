"""dataproducts: the engineering side of the data products.

Data scientists publish tables (recommendations, experiment results, coaching queues)
with dbt; this package generates synthetic raw data, builds and publishes immutable
snapshots of the public tables, and reads them:

>>> import dataproducts
>>> client = dataproducts.connect()  # doctest: +SKIP
>>> client.recommendations.for_learner(17)[:1]  # doctest: +SKIP
[Recommendation(learner_id=17, module='because_you_viewed', rank=1, ...)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .client import Client, connect

__all__ = ["Client", "__version__", "connect"]


def __getattr__(name: str) -> Any:
    # Lazy: `import dataproducts` (the CLI, the generator) stays fast; the client pulls
    # in pandas and the product modules only when asked for.
    if name in ("connect", "Client"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'dataproducts' has no attribute {name!r}")
