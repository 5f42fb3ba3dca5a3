"""Attribution URLs as staff see them.

A submission's ``page_url`` and ``referrer`` are whatever the visitor's browser (or anyone
posting the form) sent: any ``scheme://...`` up to 2048 characters (decision 11). The
``user:password@`` part of such a URL can carry credentials or personal data (an email
address as the user name), and no report or page has a use for it. Stored as sent, the
evidence of what was posted; shown only through ``url_without_userinfo``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# scheme://userinfo@ as urlsplit reads it: the authority ends at the first / ? or #, and the
# userinfo runs to its last @. Only for what urlsplit refuses (an unclosed IPv6 bracket).
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def url_without_userinfo(url: str) -> str:
    """``url`` without its ``user:password@`` part; any other URL exactly as it is.

    ``https://jane:pw@example.org:8443/a?b#c`` becomes ``https://example.org:8443/a?b#c``. An
    ``@`` in the path, query or fragment is not userinfo and stays.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(r"\g<head>", url, count=1)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
