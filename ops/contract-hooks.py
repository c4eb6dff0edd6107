"""Schemathesis hooks for ops/contract-check: the cases it leaves out, each rightly refused by the server.

Every rule drops one `positive_data_acceptance` failure (a schema-valid request the server refused) that
the schema cannot express; docs/decisions.md ("Contract checks") gives the reasons. A rule matches the
operation, the status and the error code (or the field named in the error's details), never a message,
so a refusal for any other reason is still reported.
"""

import re

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
    # A single- or multiple-choice question needs its choices: a rule across two fields (type and choices) that the
    # spec could state only with if/then, which the Swift OpenAPI generator does not take.
    ("createSurveyQuestion", 400, "VALIDATION_ERROR", "choices"),
    # Criteria whose birthYearMin exceeds birthYearMax select nobody: a rule across two fields (as choices above).
    ("createList", 400, "VALIDATION_ERROR", "criteria.birthYearMin"),
    ("populateList", 400, "VALIDATION_ERROR", "criteria.birthYearMin"),
    # A second population of a list while one is unfinished: whether one is depends on the data, not the schema.
    ("populateList", 409, "CONFLICT", None),
    # An email address: the schema's `format: email` admits RFC 5322 oddities (control characters, quoted locals) that
    # the server refuses as no deliverable address.
    ("createOrganization", 400, "VALIDATION_ERROR", "admin.email"),
    ("createMember", 400, "VALIDATION_ERROR", "email"),
    # A calendar date: the schema says string (the contract's YYYY-MM-DD in the org's time zone); the server parses it.
    ("getFieldSummary", 400, "VALIDATION_ERROR", "from"),
    ("getFieldSummary", 400, "VALIDATION_ERROR", "to"),
    # An Idempotency-Key of only blanks: HTTP trims header values, so it arrives empty.
    ("createVoterImport", 400, "VALIDATION_ERROR", "Idempotency-Key"),
    # The form's `format` part is louisiana or csv: the spec keeps it a plain text part (so the generator streams it),
    # where an enum cannot be stated.
    ("createVoterImport", 400, "VALIDATION_ERROR", "format"),
    # listId belongs to a list_members export only (and is required there): a rule across two fields (kind and listId).
    ("createExport", 400, "VALIDATION_ERROR", None),
]


def _holds_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


def _value_at(case, path):
    """The request's value at an error's field path: a body path ("admin.password", "interactions.[1].notes",
    "choices[0]") or a query or path parameter's name; None when the request has none there."""
    value = case.body
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        value = (case.query or {}).get(path, (case.path_parameters or {}).get(path))
    return value


def _error(response):
    try:
        body = response.json()
    except Exception:
        return None
    return body.get("error") if isinstance(body, dict) else None


def _rightly_refused(operation_id, case, response):
    error = _error(response)
    if not isinstance(error, dict):
        return False
    fields = {str(detail.get("path")) for detail in error.get("details") or [] if isinstance(detail, dict)}
    # bcrypt reads 72 bytes: a password of at most 72 characters (the schema's maxLength) but more than 72
    # bytes in UTF-8 is refused with 400; JSON Schema counts characters and cannot say bytes.
    if response.status_code == 400 and error.get("code") == "VALIDATION_ERROR" and fields and all(
            field.split(".")[-1] == "password" and isinstance(_value_at(case, field), str)
            and len(_value_at(case, field).encode("utf-8", "surrogatepass")) > 72 for field in fields):
        return True
    # Postgres text cannot hold U+0000: a field holding one is refused with 400 naming it (or, caught only by the
    # database, with no field named). Generation keeps making NULs, so one that ends in a 500 is still caught.
    if response.status_code == 400 and error.get("code") == "VALIDATION_ERROR":
        if fields and all(_holds_nul(_value_at(case, field)) for field in fields):
            return True
        if not fields and any(_holds_nul(part) for part in (case.body, case.query, case.path_parameters)):
            return True
    for rule_operation, status, code, field in RIGHTLY_REFUSED:
        if rule_operation not in (None, operation_id) or response.status_code != status or error.get("code") != code:
            continue
        if field is None or fields == {field}:
            return True
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    checks = type(failure).checks
    # A schema-violating body past the 1 MiB JSON limit is refused with 413 before it is read: that is its rejection.
    if "negative_data_rejection" in checks and response is not None and response.status_code == 413:
        return False
    if "positive_data_acceptance" not in checks:
        return True
    operation_id = case.operation.schema.get_operation_id(case.operation)
    return not _rightly_refused(operation_id, case, response)
