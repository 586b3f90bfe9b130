"""Data-box style message intake: envelopes, signed containers, checks, tokens, messages.

Public API::

    unwrapped = unwrap(body, trust=trust, at=now)          # plain XML, or a verified CMS container
    env = parse_envelope(unwrapped.envelope, max_bytes=n)  # hardened, valid against the XSD
    result = check_message(env, MessageLimits(...))        # main file, limits, formats, archives
    token, info = create_token(sessions, sender_boxes=["abc1234"], now=now)
    info = authenticate(sessions, "Bearer " + token, now=now); require_box(info, env.sender_box)

The application (``podatelna.databox``) wires these to the object store, the pipeline, the
timestamper and the delivery receipt.
"""

from intake.databox.archives import ArchiveLimits
from intake.databox.checks import (
    DECREE_MEDIA_TYPES,
    CheckedFile,
    CheckResult,
    MessageLimits,
    Reason,
    check_message,
)
from intake.databox.container import Unwrapped, unwrap, wire_form_of
from intake.databox.envelope import (
    NS,
    Envelope,
    EnvelopeFile,
    Reference,
    build_envelope,
    parse_envelope,
)
from intake.databox.errors import (
    BodyTooLarge,
    ContainerInvalid,
    ContainerSignatureInvalid,
    ContainerUntrusted,
    DataboxError,
    EnvelopeInvalid,
    MessageIdConflict,
    MessageNotFound,
    SenderBoxNotAllowed,
    TokenInvalid,
    TokenMissing,
    TokenRevoked,
)
from intake.databox.models import DataboxEvent, DataboxMessage, DataboxToken, MessageState
from intake.databox.tokens import (
    TokenInfo,
    authenticate,
    create_token,
    list_tokens,
    require_box,
    revoke_token,
)

__all__ = [
    "DECREE_MEDIA_TYPES",
    "NS",
    "ArchiveLimits",
    "BodyTooLarge",
    "CheckResult",
    "CheckedFile",
    "ContainerInvalid",
    "ContainerSignatureInvalid",
    "ContainerUntrusted",
    "DataboxError",
    "DataboxEvent",
    "DataboxMessage",
    "DataboxToken",
    "Envelope",
    "EnvelopeFile",
    "EnvelopeInvalid",
    "MessageIdConflict",
    "MessageLimits",
    "MessageNotFound",
    "MessageState",
    "Reason",
    "Reference",
    "SenderBoxNotAllowed",
    "TokenInfo",
    "TokenInvalid",
    "TokenMissing",
    "TokenRevoked",
    "Unwrapped",
    "authenticate",
    "build_envelope",
    "check_message",
    "create_token",
    "list_tokens",
    "parse_envelope",
    "require_box",
    "revoke_token",
    "unwrap",
    "wire_form_of",
]
