"""Schemathesis hooks for ops/contract-check: the cases it leaves out, each rightly refused by the server.

Every rule drops one `positive_data_acceptance` failure (a schema-valid request the server refused) that
the schema cannot express; docs/decisions.md ("Contract checks") gives the reasons. A rule matches the
operation, the status and the error code (or the field named in the error's details), never a message,
so a refusal for any other reason is still reported.
"""

import schemathesis

# (operationId or None for any, status, error code, field named in details or None)
RIGHTLY_REFUSED = [
    # A made-up cursor: cursors are opaque tokens the server made, which a generator cannot make.
    (None, 400, "VALIDATION_ERROR", "cursor"),
    # An IANA time zone name: the schema says string; the list of names is the server's tz database.
    ("createOrganization", 400, "VALIDATION_ERROR", "timezone"),
    # A new user needs a password; whether an email is new depends on the data, not the schema.
    ("createMember", 422, "UNPROCESSABLE", None),
    # The last admin of an organization cannot be demoted or removed.
    ("updateMember", 422, "UNPROCESSABLE", None),
    ("deleteMember", 422, "UNPROCESSABLE", None),
    # A list with criteria is refused until list population runs as a job (docs/decisions.md, issue 5).
    ("createList", 422, "UNPROCESSABLE", None),
]


def _error(response):
    try:
        body = response.json()
    except Exception:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _rightly_refused(operation_id, response):
    error = _error(response)
    if not isinstance(error, dict):
        return False
    fields = {detail.get("path") for detail in error.get("details") or [] if isinstance(detail, dict)}
    for rule_operation, status, code, field in RIGHTLY_REFUSED:
        if rule_operation not in (None, operation_id) or response.status_code != status or error.get("code") != code:
            continue
        if field is None or fields == {field}:
            return True
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if "positive_data_acceptance" not in type(failure).checks:
        return True
    operation_id = case.operation.schema.get_operation_id(case.operation)
    return not _rightly_refused(operation_id, response)
