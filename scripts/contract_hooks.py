"""schemathesis hooks of scripts/contract.

A client sends a fresh Idempotency-Key with each distinct request; the
generator repeats keys across different bodies, which the server rightly
refuses (422 idempotency_key_reused). A valid generated key is replaced by a
fresh one; an invalid one is kept, so that its refusal is still tested.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,200}")


@schemathesis.hook
def map_headers(context, headers):
    key = (headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return headers
