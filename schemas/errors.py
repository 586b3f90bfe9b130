"""Errors of the ``schemas`` package: one root class, each error with a stable ``code``."""

from __future__ import annotations


class SchemasError(Exception):
    """Root of the errors raised by :mod:`schemas`."""

    code = "schemas_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CatalogueError(SchemasError):
    """The catalogue of form types is inconsistent; the message says which entry and why."""

    code = "catalogue_invalid"


class SchemaFileNotFound(SchemasError):
    """A schema or sample file was asked for that the package does not ship."""

    code = "schema_file_not_found"
