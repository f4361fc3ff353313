"""The security headers every response of Plural carries, checked by the header and matrix tests."""

CSP_HEADER = "Content-Security-Policy"


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get(CSP_HEADER, "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def security_header_problems(response) -> list[str]:
    """What is missing or too lax in `response`'s security headers (empty when all is well)."""
    problems = []
    directives = csp_directives(response)
    if not directives:
        problems.append("no Content-Security-Policy")
    else:
        scripts = directives.get("script-src", directives.get("default-src", []))
        if "'self'" not in scripts or "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts:
            problems.append(f"script-src is {scripts}")
        if directives.get("object-src") != ["'none'"]:
            problems.append("object-src is not 'none'")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append("frame-ancestors is not 'none'")
        if directives.get("base-uri") != ["'none'"]:
            problems.append("base-uri is not 'none'")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for header, value in expected.items():
        if response.headers.get(header) != value:
            problems.append(f"{header} is {response.headers.get(header)!r}, not {value!r}")
    return problems
