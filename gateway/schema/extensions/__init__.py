"""The schema's extensions and the runner that runs them.

- `errors`: `ErrorPolicy`, how errors leave the schema (coded, client-safe, capped per code and
  provider), and `shape_error`, which the app also uses for errors raised outside the schema;
- `operation_name`: `OperationNameRequired`, a document with several operations needs
  `operationName`;
- `runner`: `FusedRunner` and `fuse`, the extension runner of every request.

The cost extension, `UpstreamCost`, is in `gateway.schema.cost`.
"""

from gateway.schema.extensions.errors import (
    MAX_ERRORS_PER_KIND,
    ErrorPolicy,
    cap_errors,
    shape_error,
)
from gateway.schema.extensions.operation_name import OperationNameRequired
from gateway.schema.extensions.runner import FusedRunner, fuse

__all__ = [
    "MAX_ERRORS_PER_KIND",
    "ErrorPolicy",
    "FusedRunner",
    "OperationNameRequired",
    "cap_errors",
    "fuse",
    "shape_error",
]
