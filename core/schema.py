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
PUBLIC_OPERATIONS = {"v1_auth_token_create"}  # needs no token, so never 401 or 403


def document_errors(result, generator, request, public):
    """Add 400 (input rejected), 401 (no or bad token), 403 (role or scope), 404 (an {id} not found or not
    visible, or a page past the end), 415 (a body in a media type the operation does not read) and the login's 429
    (locked out) to each operation that can answer them and does not document them already."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            errors = {"400": "Invalid input.", "406": "The client accepts no JSON: every answer is JSON."}
            if operation.get("operationId") in PUBLIC_OPERATIONS:
                errors["429"] = "Too many failed logins: locked out for now."
            else:
                errors |= {"401": "No valid token or session.", "403": "The user's role may not do this."}
            if "requestBody" in operation:
                errors["415"] = "The body is in a media type this operation does not read (send JSON)."
            if "{" in path:
                errors["404"] = "Not found, or not visible to the user."
            elif any(p.get("name") == "page" for p in operation.get("parameters", [])):
                errors["404"] = "No such page."
            for code, description in errors.items():
                operation["responses"].setdefault(code, {"description": description, "content": ERROR_BODY})
    return result
