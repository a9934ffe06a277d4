"""The dbt docs site: everything described, exposures on public marts, and the site itself
opened in headless Chromium.

The site is generated once (``dbt docs generate`` on the tiny DuckDB build, into a private
target dir so the shared build's run_results stay untouched). The browser test installs
Debian's ``chromium`` and ``chromium-driver`` when they are missing and it runs as root,
serves the site over HTTP on a free localhost port, drives Chromium through chromedriver's
W3C WebDriver protocol (plain HTTP, no selenium needed), and saves a screenshot of the
``recommendations`` model page to ``test-artifacts/``.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, DbtRunner

ARTIFACTS = REPO / "test-artifacts"
PACKAGE = "dataproducts"
RECOMMENDATIONS = "model.dataproducts.recommendations.v1"


@pytest.fixture(scope="module")
def docs_target(duckdb_build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("docs_site") / "target"
    DbtRunner(duckdb_build.dbt.env, "dev", target).run("docs", "generate")
    return target


@pytest.fixture(scope="module")
def manifest(docs_target: Path) -> dict[str, Any]:
    return json.loads((docs_target / "manifest.json").read_text())


@pytest.fixture(scope="module")
def catalog(docs_target: Path) -> dict[str, Any]:
    return json.loads((docs_target / "catalog.json").read_text())


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


# --- every resource described ------------------------------------------------------------


def test_every_model_column_seed_source_macro_and_exposure_is_described(
    manifest: dict[str, Any], catalog: dict[str, Any]
) -> None:
    """Descriptions from the manifest; columns also from the catalog, i.e. the columns the
    warehouse really has, so an undeclared column counts as undescribed."""
    missing: list[str] = []
    resources = {**manifest["nodes"], **manifest["sources"]}
    kinds = {"model", "seed", "source", "snapshot"}
    for uid, node in resources.items():
        if node["package_name"] != PACKAGE or node["resource_type"] not in kinds:
            continue
        if _blank(node.get("description")):
            missing.append(uid)
        if node["resource_type"] == "source" and _blank(node.get("source_description")):
            missing.append(f"source {node['source_name']}")
        described = {
            k.lower() for k, c in node["columns"].items() if not _blank(c.get("description"))
        }
        declared = {k.lower() for k in node["columns"]}
        missing += [f"{uid}.{c}" for c in sorted(declared - described)]
        in_warehouse = {**catalog["nodes"], **catalog["sources"]}.get(uid, {}).get("columns", {})
        missing += [
            f"{uid}.{c} (in the warehouse)" for c in in_warehouse if c.lower() not in described
        ]
    for uid, macro in manifest["macros"].items():
        if macro["package_name"] != PACKAGE:
            continue
        if _blank(macro.get("description")):
            missing.append(uid)
        missing += [
            f"{uid}({a['name']})" for a in macro["arguments"] if _blank(a.get("description"))
        ]
    for uid, exposure in manifest["exposures"].items():
        if _blank(exposure.get("description")) or not exposure.get("owner", {}).get("email"):
            missing.append(uid)
    assert missing == [], f"{len(missing)} undescribed:\n" + "\n".join(missing)


def test_catalog_covers_the_models(manifest: dict[str, Any], catalog: dict[str, Any]) -> None:
    """The column check above is only as good as the catalog: it must hold every table
    model (ephemeral and disabled models have no relation)."""
    models = {
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model" and n["config"]["materialized"] in ("table", "view")
    }
    assert models, "no model in the manifest"
    assert models <= set(catalog["nodes"]), sorted(models - set(catalog["nodes"]))


def test_exposures_depend_only_on_public_marts(manifest: dict[str, Any]) -> None:
    nodes = manifest["nodes"]
    public = {
        uid
        for uid, n in nodes.items()
        if n["resource_type"] == "model" and n.get("access") == "public"
    }
    exposures = manifest["exposures"]
    names = {e["name"] for e in exposures.values()}
    # The package, and each consumer use the issue names.
    assert {
        "dataproducts_python_package",
        "home_page_recommendation_modules",
        "course_page_similar_courses",
        "experiment_scorecard",
        "coaching_sender",
    } <= names
    used: set[str] = set()
    for uid, exposure in exposures.items():
        depends = set(exposure["depends_on"]["nodes"])
        assert depends, uid
        assert depends <= public, (uid, sorted(depends - public))
        used |= depends
    # Every public mart has a consumer, and the package reads all of them.
    assert used == public
    package = exposures["exposure.dataproducts.dataproducts_python_package"]
    assert set(package["depends_on"]["nodes"]) == public


def test_overview_explains_each_product_and_its_links_resolve(manifest: dict[str, Any]) -> None:
    overview = manifest["docs"]["doc.dataproducts.__overview__"]["block_contents"]
    for product in ("Recommendations", "Experiment metrics", "In-course coaching"):
        assert f"**{product}.**" in overview
    links = re.findall(r"\]\(#!/(\w+)/([^)]+)\)", overview)
    assert len(links) >= 12
    known = {**manifest["nodes"], **manifest["sources"], **manifest["exposures"]}
    for kind, target in links:
        if kind == "source_list":
            assert any(s["source_name"] == target for s in manifest["sources"].values()), target
        else:
            assert target in known, f"overview links to unknown {kind} {target}"
    # Reports beside the site: relative links, each explained with its path on disk.
    assert "(data_docs/index.html)" in overview and "warehouse/data_docs/index.html" in overview
    assert "(scorecards/)" in overview and "warehouse/scorecards/" in overview


# --- the site in headless Chromium -------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1100",
]


def _find_browser() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="session")
def browser() -> tuple[str, str]:
    """Paths of chromium and chromedriver, installing Debian's packages when missing."""
    found = _find_browser()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(
            "chromium and chromedriver are missing and cannot be installed (not root "
            "or no apt-get): install Debian's chromium and chromium-driver"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ],
    ]
    for step in steps:
        proc = subprocess.run(step, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(
                f"cannot install chromium ({' '.join(step)} exit {proc.returncode}): "
                f"{proc.stderr.strip()[-400:]}"
            )
    found = _find_browser()
    if not found:
        pytest.skip("chromium-driver installed but chromium/chromedriver not on PATH")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site_url(docs_target: Path) -> Iterator[str]:
    """The generated site over HTTP, as ``python -m http.server`` (dbt docs serve) would."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(docs_target))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class WebDriver:
    """Just enough of the W3C WebDriver protocol, over chromedriver's HTTP port."""

    def __init__(self, chromium: str, chromedriver: str, profile: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [chromedriver, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status")["value"].get("ready"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("chromedriver did not start within 30 s")
            time.sleep(0.2)
        options = {"binary": chromium, "args": [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]}
        caps = {
            "capabilities": {
                "alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}
            }
        }
        self.session = self._call("POST", "/session", caps)["value"]["sessionId"]

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"webdriver {method} {path}: {exc.read()[:500]!r}") from exc

    def get(self, url: str) -> None:
        self._call("POST", f"/session/{self.session}/url", {"url": url})

    def script(self, source: str) -> Any:
        return self._call(
            "POST", f"/session/{self.session}/execute/sync", {"script": source, "args": []}
        )["value"]

    def screenshot(self) -> bytes:
        return base64.b64decode(self._call("GET", f"/session/{self.session}/screenshot")["value"])

    def quit(self) -> None:
        try:
            self._call("DELETE", f"/session/{self.session}")
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def test_recommendations_page_in_headless_chromium(
    browser: tuple[str, str], site_url: str, manifest: dict[str, Any]
) -> None:
    node = manifest["nodes"][RECOMMENDATIONS]
    # What the page must show: the description's opening words and every column.
    # (markdown markup stripped: the page renders it)
    opening = " ".join(re.sub(r"[`*_#\[\]]", "", node["description"]).split()[:6])
    columns = list(node["columns"])
    assert len(columns) >= 10

    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        driver = WebDriver(*browser, Path(profile))
        try:
            driver.get(f"{site_url}#!/model/{RECOMMENDATIONS}")
            deadline = time.monotonic() + 60
            text = ""
            while time.monotonic() < deadline:
                text = " ".join((driver.script("return document.body.innerText") or "").split())
                if opening in text and all(c in text for c in columns):
                    break
                time.sleep(0.5)
            (ARTIFACTS / "docs_site_recommendations.png").write_bytes(driver.screenshot())
            (ARTIFACTS / "docs_site_recommendations.txt").write_text(text)
        finally:
            driver.quit()

    assert "recommendations" in text
    assert opening in text, f"description not shown; page text starts: {text[:500]}"
    absent = [c for c in columns if c not in text]
    assert absent == [], f"columns not shown: {absent}"
    png = (ARTIFACTS / "docs_site_recommendations.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
