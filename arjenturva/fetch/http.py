"""HTTP for the downloads: retries with backoff, an on-disk cache and readable errors.

Every request of ``arjenturva fetch`` goes through :class:`HttpClient`: short connect timeout,
bounded retries with exponential backoff on 429/5xx and timeouts, and a cache keyed by a hash of
the URL and the parameters (:func:`cache_key`). A cached response is reused without touching the
network, so a second run works offline. Library code never prints: progress goes to an optional
callback.
"""

from __future__ import annotations

import hashlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..errors import ArjenturvaError, OfflineError
from ..io import atomic_path, write_json

if TYPE_CHECKING:
    import requests

Progress = Callable[[str], None]

USER_AGENT = "arjenturva-fetch (+https://github.com/; rural service network mapping)"

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 30.0


class FetchError(ArjenturvaError):
    """A public data service refused a request or answered with something unusable."""


class FetchTimeoutError(FetchError):
    """A service did not answer in time, even after the retries."""


def cache_key(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The cache key of a GET request: SHA-256 of the URL and its sorted, encoded parameters.

    Parameters
    ----------
    url
        The URL without a query string.
    params
        The query parameters.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    query = urlencode(sorted((str(k), str(v)) for k, v in (params or {}).items()))
    return hashlib.sha256(f"{url}?{query}".encode()).hexdigest()


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


class HttpClient:
    """GET with a short connect timeout, bounded retries with backoff, and an on-disk cache.

    Parameters
    ----------
    cache_dir
        Folder of cached responses (``<key>.body`` and ``<key>.json``); ``None`` disables the cache.
    session
        A :class:`requests.Session`; tests mount an adapter that replays recorded responses.
    connect_timeout_s
        Seconds to wait for a connection; short, so an offline machine fails fast.
    read_timeout_s
        Seconds to wait for the answer (Overpass and WFS can be slow).
    retries
        Extra attempts after the first on a timeout, a lost connection, 429 or 5xx.
    backoff_s
        The first wait between attempts; doubled each time, capped at 30 s. ``Retry-After`` is
        honoured within the same cap.
    use_cache
        Reuse cached responses (default). ``False`` downloads again but still stores the result.
    progress
        Optional callback receiving a short message per request.
    sleep
        The function used to wait (tests pass a no-op).
    """

    def __init__(
        self,
        *,
        cache_dir: str | Path | None = None,
        session: requests.Session | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 180.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        use_cache: bool = True,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
        self.session = session
        self.timeout = (float(connect_timeout_s), float(read_timeout_s))
        self.retries = max(0, int(retries))
        self.backoff_s = max(0.0, float(backoff_s))
        self.use_cache = use_cache
        self.progress = progress
        self.sleep = sleep
        self.n_cached = 0
        self.n_downloaded = 0

    def _say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(msg)

    def cached(self, url: str, params: Mapping[str, Any] | None = None) -> bytes | None:
        """The cached body of a request, or ``None``."""
        if self.cache_dir is None:
            return None
        body = self.cache_dir / f"{cache_key(url, params)}.body"
        return body.read_bytes() if body.exists() else None

    def _store(self, url: str, params: Mapping[str, Any] | None, content: bytes, status: int) -> None:
        if self.cache_dir is None:
            return
        key = cache_key(url, params)
        meta = {
            "url": url,
            "params": {str(k): str(v) for k, v in (params or {}).items()},
            "status": status,
            "bytes": len(content),
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with atomic_path(self.cache_dir / f"{key}.body") as tmp:
            tmp.write_bytes(content)
        write_json(meta, self.cache_dir / f"{key}.json")

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        what: str = "data",
        check: Callable[[bytes], None] | None = None,
    ) -> bytes:
        """GET ``url`` with ``params``, from the cache when possible.

        Parameters
        ----------
        url
            The URL without a query string.
        params
            The query parameters (also the cache key).
        what
            What is downloaded, for messages (``"municipality boundaries"``).
        check
            Called with the body before it is cached; raises :class:`FetchError` when the service
            answered with an error document, so that a bad answer is never cached.

        Returns
        -------
        bytes
            The response body.

        Raises
        ------
        OfflineError
            When the host cannot be reached and nothing is cached.
        FetchTimeoutError
            When the service did not answer in time after every retry.
        FetchError
            When the service answered with an HTTP error (after the retries for 429/5xx).
        """
        import requests

        if self.use_cache:
            hit = self.cached(url, params)
            if hit is not None:
                self.n_cached += 1
                self._say(f"{what}: from cache")
                return hit
        attempts = self.retries + 1
        last: str = ""
        for attempt in range(attempts):
            wait = min(_MAX_BACKOFF_S, self.backoff_s * (2**attempt))
            try:
                self._say(f"{what}: downloading from {_host(url)}"
                          + (f" (attempt {attempt + 1}/{attempts})" if attempt else ""))
                resp = self.session.get(url, params=dict(params or {}), timeout=self.timeout)
            except requests.exceptions.ConnectTimeout as e:
                last = "connect"
                err: Exception = e
            except requests.exceptions.ConnectionError as e:
                last = "connect"
                err = e
            except requests.exceptions.Timeout as e:
                last = "timeout"
                err = e
            else:
                status = int(resp.status_code)
                if status == 200:
                    content = resp.content
                    if check is not None:
                        check(content)
                    self._store(url, params, content, status)
                    self.n_downloaded += 1
                    return content
                if status in _RETRY_STATUS and attempt + 1 < attempts:
                    retry_after = resp.headers.get("Retry-After", "")
                    if retry_after.strip().isdigit():
                        wait = min(_MAX_BACKOFF_S, float(retry_after))
                    self._say(f"{what}: {_host(url)} answered HTTP {status}; retrying in {wait:g} s")
                    self.sleep(wait)
                    continue
                if check is not None and status not in _RETRY_STATUS:
                    check(resp.content)  # a service-specific message for an error document
                excerpt = _error_excerpt(resp.content)
                hint = (
                    "the service is busy or down; try again later"
                    if status in _RETRY_STATUS
                    else "check the request (municipality codes, --year) or report a bug"
                )
                msg = (
                    f"{what}: {_host(url)} answered HTTP {status}"
                    + (f" ({excerpt})" if excerpt else "")
                    + (f" after {attempts} attempts" if status in _RETRY_STATUS else "")
                    + f". Fix: {hint}"
                )
                raise FetchError(msg)
            if attempt + 1 < attempts:
                self._say(f"{what}: {'no connection to' if last == 'connect' else 'no answer from'} "
                          f"{_host(url)}; retrying in {wait:g} s")
                self.sleep(wait)
        if last == "timeout":
            msg = (
                f"{what}: {_host(url)} did not answer within {self.timeout[1]:g} s "
                f"({attempts} attempts). Fix: try again later, or allow a longer read timeout"
            )
            raise FetchTimeoutError(msg) from err
        msg = (
            f"no internet connection: cannot reach {_host(url)} to download {what}, and nothing is "
            "cached for this request. Fix: connect to the internet and run `arjenturva fetch` again "
            "(later runs reuse the cache in .arjenturva-cache/http/), or build the workspace from "
            "local files"
        )
        raise OfflineError(msg) from err


def _error_excerpt(content: bytes, limit: int = 200) -> str:
    text = content.decode("utf-8", "replace")
    ows = _ows_exception(content)
    if ows:
        return ows
    text = " ".join(text.split())
    return text[:limit]


def _ows_exception(content: bytes) -> str:
    """The text of an OGC ``ExceptionReport`` (GeoServer's error document), or ``""``."""
    head = content[:500].lstrip()
    if not head.startswith(b"<") or b"Exception" not in content[:2000]:
        return ""
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return ""
    texts = [" ".join((el.text or "").split()) for el in root.iter() if el.tag.endswith("ExceptionText")]
    return "; ".join(t for t in texts if t)
