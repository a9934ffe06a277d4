"""The build side of the data products: what data scientists run to produce the tables.

``generate`` (synthetic raw data), ``build`` (dbt build, then the validation gate, then
``publish`` an immutable snapshot), the validation gate and its expectation suites, the
numerical kernels the dbt Python models import (``ranking``, ``regression``,
``recommendations``) and the reference implementations the tests check the SQL against.

Engineers read the published tables with the light package :mod:`dataproducts`; nothing
in it imports this package (``python/tests/test_package_boundary.py``). This package needs
the ``pipeline`` extra (dbt and its adapters, great-expectations, scipy, implicit):
importing it without them raises :class:`~dataproducts.errors.PipelineNotInstalledError`
saying what to install.
"""

from __future__ import annotations

from importlib.util import find_spec

from dataproducts.errors import PipelineNotInstalledError

#: Import names of the ``pipeline`` extra's distributions this package cannot work without.
REQUIRED_MODULES = ("dbt.version", "great_expectations", "scipy", "implicit", "yaml", "tqdm")


def _missing(modules: tuple[str, ...] = REQUIRED_MODULES) -> list[str]:
    out = []
    for name in modules:
        try:
            if find_spec(name) is None:
                out.append(name)
        except ModuleNotFoundError:  # a parent package is missing
            out.append(name)
    return out


if missing := _missing():
    raise PipelineNotInstalledError(
        f"the build side (dataproducts_pipeline) needs {', '.join(missing)}, which are not "
        "installed: this is a reader-only install. Install the pipeline extra: "
        "pip install 'dataproducts[pipeline]' (from a checkout: pip install -e '.[pipeline]')."
    )
