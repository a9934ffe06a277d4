"""The validation gate's Data Docs render offline: great-expectations' pages load jQuery,
Bootstrap, bootstrap-table... from CDNs (offline: unstyled, empty tables); the gate serves
local copies next to the docs instead (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dataproducts_pipeline.validation import validate_build

#: Every script and stylesheet a page loads (links to web pages, <a href>, stay links).
ASSET = re.compile(r"<(?:script\b[^>]*?\bsrc|link\b[^>]*?\bhref)\s*=\s*[\"']([^\"']+)[\"']", re.I)


def test_data_docs_load_no_asset_from_the_network(duckdb_build, tmp_path: Path) -> None:
    report = validate_build(duckdb_build.path, data_docs_dir=tmp_path / "docs")
    pages = sorted((tmp_path / "docs").rglob("*.html"))
    assert report.data_docs_index in pages
    assert any("validations" in p.parts for p in pages)  # validation pages, not just the index
    remote: list[str] = []
    missing: list[str] = []
    scripts = 0
    for page in pages:
        for ref in ASSET.findall(page.read_text(encoding="utf-8")):
            if re.match(r"(?i)(https?:)?//", ref):
                remote.append(f"{page.name}: {ref}")
                continue
            scripts += 1
            target = (page.parent / unquote(urlsplit(ref).path)).resolve()
            if not target.is_file() or target.stat().st_size == 0:
                missing.append(f"{page.name}: {ref}")
    assert remote == []
    assert missing == []
    assert scripts > 10 * len(pages)  # jquery, bootstrap, bootstrap-table... on each page
