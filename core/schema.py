"""OpenAPI post-processing: document the errors every API operation can answer with.

core.apis.exception_handler answers every error as JSON (`detail`, or field messages for a 400), so the same
few error responses apply across the API; listing them per view would repeat them in every `extend_schema`.
"""

ERROR_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "additionalProperties": {},
            "description": "`detail`, or for a 400 the messages per field (`non_field_errors` for the whole).",
        }
    }
}
# Every 429 (throttled, or a login locked out) says when to try again.
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
        "required": True,
    }
}
PUBLIC_OPERATIONS = {"v1_auth_token_create"}  # needs no token, so never 401 (403 only for the token limit)


def document_errors(result, generator, request, public):
    """Add 400 (input rejected), 401 (no or bad token), 403 (role or scope), 404 (an {id} not found or not
    visible, or a page past the end), 415 (a body in a media type the operation does not read) and 429 (over the
    API's rate, core/throttles.py, or for the login locked out), with its Retry-After, to each operation that can
    answer them and does not document them already."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            errors = {"400": "Invalid input.", "406": "The client accepts no JSON: every answer is JSON."}
            if operation.get("operationId") in PUBLIC_OPERATIONS:
                errors["429"] = "Too many failed logins (locked out for now), or too many requests from this address."
                errors["403"] = "The user has as many active API tokens as allowed: revoke one first."
            else:
                errors |= {"401": "No valid token or session.", "403": "The user's role may not do this."}
                errors["429"] = "Too many requests: over the API's rate for this user or address."
            if "requestBody" in operation:
                errors["415"] = "The body is in a media type this operation does not read (send JSON)."
            if "{" in path:
                errors["404"] = "Not found, or not visible to the user."
            elif any(p.get("name") == "page" for p in operation.get("parameters", [])):
                errors["404"] = "No such page."
            for code, description in errors.items():
                answer = {"description": description, "content": ERROR_BODY}
                if code == "429":
                    answer["headers"] = RETRY_AFTER
                operation["responses"].setdefault(code, answer)
    return result
