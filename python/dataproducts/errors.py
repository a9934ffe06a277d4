"""Typed errors of the dataproducts package.

Every error says what went wrong and what to do about it, so that a caller (a web
service, a script, a person at the CLI) can act on the message alone.
"""

from __future__ import annotations


class DataProductsError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigurationError(DataProductsError):
    """A setting, path or target is missing or invalid."""


class PipelineNotInstalledError(ConfigurationError, ImportError):
    """The build side (``dataproducts_pipeline``: generate, build, publish) was asked for,
    but only the reader is installed: ``pip install 'dataproducts[pipeline]'``."""


class UnknownExperimentError(DataProductsError, KeyError):
    """An experiment id that the registry (seed ``experiments``) does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RegistryError(DataProductsError):
    """The experiment registry seeds are inconsistent (weights, controls, columns)."""


class ContractError(DataProductsError):
    """A published table's columns or types differ from its dbt contract."""


class WarehouseError(DataProductsError):
    """The warehouse could not be reached, or a table it should hold is missing."""


class NotPublishedError(WarehouseError):
    """Nothing has been published yet where the reader looked (no current snapshot)."""


class SnapshotCorruptError(WarehouseError):
    """A published snapshot's pointer (``CURRENT``), manifest or file is damaged, missing
    or leads outside the published directory; the message says how to recover."""


class PublishError(DataProductsError):
    """A snapshot could not be published or rolled back; the current one is unchanged."""


class BuildFailedError(PublishError):
    """The dbt build or the validation gate failed, so nothing was published.

    ``failures`` lists what failed (dbt nodes, or marts and expectations).
    """

    def __init__(self, message: str, failures: list[str] | None = None) -> None:
        super().__init__(message)
        self.failures: list[str] = list(failures or [])


class InvalidArgumentError(DataProductsError, ValueError):
    """An argument of a lookup is out of range or not one of the accepted values."""
