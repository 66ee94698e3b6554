"""CSV downloads that open safely in a spreadsheet."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> object:
    """Text a spreadsheet would run as a formula ('=HYPERLINK(...)') is prefixed with a quote; numbers pass."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
