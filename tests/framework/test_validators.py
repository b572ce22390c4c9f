"""framework/validators.py: the URL check against hosts the IDNA codec used to judge."""

from __future__ import annotations

import pytest

from terraform_provider_connectly.framework.diagnostics import Diagnostics
from terraform_provider_connectly.framework.validators import HttpUrl


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/hooks", True),
        ("https://example.com./hooks", True),  # the root's dot
        ("https://hooks.example.com../in", False),  # an empty label before it
        ("https://a../", False),
        ("https://a..b/", False),
        ("https://" + "a" * 63 + ".com/", True),
        ("https://" + "a" * 64 + ".com/", False),
        ("https://-a.com/", False),
        ("https://bücher.example/", True),
        ("https://exa mple.com/", False),
        ("https://example.com\u00a0/", False),  # a no-break space is white space too
    ],
)
def test_urls_are_judged_by_their_host(url: str, ok: bool) -> None:
    diags = Diagnostics()
    HttpUrl()(url, ("address",), diags)
    assert (not diags.has_errors) is ok
