"""schemathesis hooks of scripts/contract: the refusals of schema-valid
requests that depend on state no schema can state. Only the check
`positive_data_acceptance` and only these exact answers are set aside.

- 422 `idempotency_key_reused`: the generator repeats a key across different
  requests; a client sends a fresh key per distinct request, and the server
  rightly refuses the reuse.
- 400 `invalid_input` on `min_revision`: it must be a revision an earlier
  write returned (at most a million ahead); which revisions exist is state.
"""

import schemathesis


def _state_dependent(response):
    try:
        error = response.json().get("error") or {}
    except Exception:
        return False
    if response.status_code == 422 and error.get("code") == "idempotency_key_reused":
        return True
    return (
        response.status_code == 400
        and error.get("code") == "invalid_input"
        and error.get("field") == "min_revision"
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    # ST202: "Schema-valid request rejected" (the check positive_data_acceptance).
    return not (getattr(failure, "code", None) == "ST202" and _state_dependent(response))
