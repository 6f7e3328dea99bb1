"""The same page as PDF, through WeasyPrint (the ``report-pdf`` extra).

Why WeasyPrint: it lays out the very HTML and CSS of the page (inline SVG
included) with no browser, from a pure-Python wheel; its only system need is
Pango (``apt-get install --no-install-recommends libpango-1.0-0
libpangoft2-1.0-0``, a few MB). fpdf2 needs no system library but cannot lay
out this HTML, so the PDF would be a second, different page; xhtml2pdf lacks
inline SVG. Loading it fetches nothing: the page has no external reference,
and a URL fetcher that refuses every URL makes sure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from .errors import ReportError

INSTALL = ("pip install 'aivitals[report-pdf]' and apt-get install --no-install-recommends libpango-1.0-0 "
           "libpangoft2-1.0-0, or drop pdf from --format")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the review page fetches nothing, not {url[:60]}")


def write_pdf(html: str, path: Path) -> None:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the wheel is there but Pango is not
        raise ReportError(f"PDF output needs WeasyPrint and Pango ({type(exc).__name__})", INSTALL) from None
    weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf(path)
