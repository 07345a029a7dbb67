# SPDX-License-Identifier: Apache-2.0
"""The one error vocabulary of the service.

Service errors travel in the response `Status` with dpservice's numeric codes and their names
as message (contract 3.6); request validation failures are gRPC INVALID_ARGUMENT with the
contract's texts (3.5). Firmware calls raise OSError (errno); `from_oserror` (or `failing_as`)
turns one into the service error of the operation that failed, through one table of what
each errno means for that operation.
"""
from __future__ import annotations

import contextlib
import enum
import errno
from collections.abc import Iterator


class ErrorCode(enum.IntEnum):
    """dpservice's service error codes. Never renumber: clients match on them."""

    BAD_REQUEST = 101
    NOT_FOUND = 201
    ALREADY_EXISTS = 202
    WRONG_TYPE = 203
    BAD_IPVER = 204
    NO_VM = 205
    NO_VNI = 206
    ITERATOR = 207
    OUT_OF_MEMORY = 208
    LIMIT_REACHED = 209
    ALREADY_ACTIVE = 210
    NOT_ACTIVE = 211
    ROLLBACK = 212
    RTE_RULE_ADD = 213
    RTE_RULE_DEL = 214
    ROUTE_EXISTS = 301
    ROUTE_NOT_FOUND = 302
    ROUTE_INSERT = 303
    ROUTE_BAD_PORT = 304
    ROUTE_RESET = 305
    DNAT_NO_DATA = 321
    DNAT_CREATE = 322
    DNAT_EXISTS = 323
    SNAT_NO_DATA = 341
    SNAT_CREATE = 342
    SNAT_EXISTS = 343
    VNI_INIT4 = 361
    VNI_INIT6 = 362
    VNI_FREE4 = 363
    VNI_FREE6 = 364
    PORT_START = 381
    PORT_STOP = 382
    PORT_METER = 383
    VNF_INSERT = 401
    VM_HANDLE = 402
    VNF_DELETE = 403
    NO_BACKIP = 421
    NO_LB = 422
    BACKIP_ADD = 423
    BACKIP_DEL = 424
    NO_DROP_SUPPORT = 441


SUCCESS_MESSAGE = "Success"


class ServiceError(Exception):
    """A request that was valid but could not be carried out: reported in Status."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        super().__init__(f"{code.name}{': ' + detail if detail else ''}")
        self.code = code
        self.detail = detail


class InvalidArgument(Exception):
    """A malformed request: gRPC INVALID_ARGUMENT with exactly this text."""


class ConfigError(Exception):
    """Bad command line, config file or board: one line on stderr, exit status 1."""


# What a firmware errno means, per operation. An operation is named by the code dpservice
# reports when it fails (ROUTE_INSERT for a route that cannot be added, VNF_INSERT for an
# underlay address ...); its entry says which errnos stand for a more specific code (a route
# that exists: ROUTE_EXISTS). The modules that own the operations fill it (meanings()).
_MEANINGS: dict[ErrorCode, dict[int, ErrorCode]] = {}


def meanings(operation: ErrorCode, **by_errno: ErrorCode) -> None:
    """What errnos mean when `operation` fails, by errno name: meanings(ROUTE_INSERT,
    EEXIST=ROUTE_EXISTS, ENODEV=NO_VNI)."""
    table = _MEANINGS.setdefault(operation, {})
    for name, code in by_errno.items():
        table[getattr(errno, name)] = code


def from_oserror(exc: OSError, operation: ErrorCode) -> ServiceError:
    """The service error of a firmware call that failed with exc while carrying out
    `operation`."""
    code = _MEANINGS.get(operation, {}).get(exc.errno or 0, operation)
    return ServiceError(code, str(exc))


@contextlib.contextmanager
def failing_as(operation: ErrorCode) -> Iterator[None]:
    """Firmware calls in the body that fail raise the service error of `operation`."""
    try:
        yield
    except OSError as exc:
        raise from_oserror(exc, operation) from None
