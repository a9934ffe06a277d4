"""A local Spark Thrift server (HiveServer2): what dbt's target ``spark`` connects to.

dbt-spark's ``method: thrift`` is how a team points dbt at its cluster's Thrift server;
here the same protocol reaches a local Spark started from the ``pyspark`` wheel (the
``spark`` extra; Java 17 or later). The wheel ships the Thrift server's jar
(``spark-hive-thriftserver``) but not ``sbin/start-thriftserver.sh``, so
:func:`start_server` runs ``spark-submit --class ...HiveThriftServer2`` itself:

- ``local[2]`` (``cores``), small shuffle partitions, the driver's memory bounded;
- the warehouse directory, an embedded Derby metastore, Spark's scratch space and the log
  in a work directory it owns (a fresh temporary one by default);
- session time zone UTC: the raw contract's timestamps are UTC (Spark's ``timestamp``
  then reads as the naive UTC time DuckDB and PostgreSQL store);
- statements run synchronously (``spark.sql.hive.thriftServer.async=false``): dbt-spark
  polls an asynchronous statement every ``poll_interval`` seconds (5 by default), which
  would add seconds to every short statement of a build;
- listens on 127.0.0.1 only, on a free port, without authentication (dbt's ``auth`` unset:
  SASL PLAIN with any user name);
- Spark Connect beside Thrift, in the same JVM (``SparkConnectPlugin``, on another free
  port): dbt's Python models run through it (submission method ``spark_connect``, see
  :mod:`dataproducts_pipeline.spark_connect`) and see the same catalog as dbt's SQL;
- Hive's ``hive-llap-common`` jar on the driver's class path (:data:`HIVE_LLAP_COMMON`).
  Spark 4 no longer ships it (SPARK-51029, "add it to the class path" says its migration
  guide), but the Thrift server still needs it: closing a session can initialize Hive's
  ``FunctionRegistry``, whose static block loads a class of that jar; without it the
  close fails (``NoClassDefFoundError: ...LlapSigner$Signable``, now and then, as dbt
  closes a session after every node) and every later use of the registry fails too.
  :func:`install_extra_jars` (``python -m dataproducts_pipeline.spark_server
  --install-jars``, which ``make`` runs) takes the jar, checked by its SHA-256, from the
  pyspark 3.5.7 source distribution on the package registry (no Maven here).

The server never outlives the process that started it (a normal end, Ctrl-C, SIGTERM, a
crash, SIGKILL): the JVM runs under the watchdog of :mod:`dataproducts_pipeline.watchdog`,
which stops it (SIGTERM, then SIGKILL after 30 s) and removes the work directory.
:func:`start_server` returns once the server answers a query over Thrift.

``python -m dataproducts_pipeline.spark_server`` starts one in the foreground and prints
the variables (``DATAPRODUCTS_SPARK_HOST``, ``_PORT``, ``_USER``) that point dbt
(``--target spark``) and ``dataproducts generate --target spark`` at it; Ctrl-C stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataproducts.errors import ConfigurationError, WarehouseError

from .watchdog import free_port, start_watched, stop_watched

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


@dataclass(frozen=True)
class ExtraJar:
    """A jar the Thrift server needs that the pyspark wheel lacks, and where to take it."""

    name: str
    sha256: str
    #: The pip requirement whose source distribution holds the jar, and its path there.
    distribution: str
    member: str


#: Hive's LLAP common classes, 2.3.9 (the Hive 2.3 line pyspark 4.3 runs, 2.3.10).
HIVE_LLAP_COMMON = ExtraJar(
    name="hive-llap-common-2.3.9.jar",
    sha256="bbc07775a0b14180540b44d7879fb35dc92967a1e7a968063ca890c4e604c0b9",
    distribution="pyspark==3.5.7",
    member="pyspark-3.5.7/deps/jars/hive-llap-common-2.3.9.jar",
)
EXTRA_JARS = (HIVE_LLAP_COMMON,)
#: The user name the local server is given (it does not check it).
DEFAULT_USER = "dataproducts"


def spark_home() -> Path:
    """Spark's installation: the ``pyspark`` package directory (bin/, jars/)."""
    try:
        import pyspark
    except ImportError as exc:
        raise ConfigurationError(
            "pyspark is not installed: install the spark extra "
            "(pip install -c constraints.txt -e '.[pipeline,spark]', as make does)."
        ) from exc
    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-submit").exists():
        raise ConfigurationError(f"pyspark at {home} has no bin/spark-submit")
    return home


def extra_jars_dir() -> Path:
    """Where :func:`install_extra_jars` puts the jars: under the virtualenv (``sys.prefix``)."""
    return Path(sys.prefix) / "share" / "dataproducts" / "spark-jars"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extra_jars() -> list[Path]:
    """The installed extra jars; :class:`ConfigurationError` if one is missing or altered."""
    found = []
    for jar in EXTRA_JARS:
        path = extra_jars_dir() / jar.name
        if not path.exists() or _sha256(path) != jar.sha256:
            raise ConfigurationError(
                f"the Spark Thrift server needs {jar.name} at {path} "
                f"({'altered' if path.exists() else 'missing'}): run "
                "`python -m dataproducts_pipeline.spark_server --install-jars` "
                "(make does it)."
            )
        found.append(path)
    return found


def install_extra_jars(*, quiet: bool = False) -> list[Path]:
    """Put each of :data:`EXTRA_JARS` into :func:`extra_jars_dir` (kept if already there).

    ``pip download`` of the distribution that holds it (no dependencies, from the index
    pip is configured with), one member taken out of it, its SHA-256 checked.
    """
    target = extra_jars_dir()
    target.mkdir(parents=True, exist_ok=True)
    installed = []
    for jar in EXTRA_JARS:
        path = target / jar.name
        if path.exists() and _sha256(path) == jar.sha256:
            installed.append(path)
            continue
        with tempfile.TemporaryDirectory(prefix="dataproducts-jars-") as tmp:
            if not quiet:
                print(f"fetching {jar.name} from {jar.distribution}'s source distribution")
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", "--disable-pip-version-check",
                 "-d", tmp, jar.distribution],
                check=True,
            )  # fmt: skip
            (archive,) = Path(tmp).glob("*.tar.gz")
            with tarfile.open(archive) as tar:
                member = tar.extractfile(jar.member)
                if member is None:
                    raise ConfigurationError(f"{archive.name} has no file {jar.member}")
                partial = path.with_suffix(".part")
                partial.write_bytes(member.read())
            if _sha256(partial) != jar.sha256:
                partial.unlink()
                raise ConfigurationError(
                    f"{jar.member} of {archive.name} is not the expected {jar.name} "
                    f"(SHA-256 differs from {jar.sha256})"
                )
            partial.replace(path)
        installed.append(path)
    return installed


def find_java() -> Path:
    """The ``java`` Spark will run: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return Path(java_home) / "bin" / "java"
    found = shutil.which("java")
    if found:
        return Path(found)
    raise ConfigurationError(
        "java not found: Spark needs a Java runtime, 17 or later (Debian package "
        "openjdk-17-jre-headless; make installs it when run as root), on PATH or in JAVA_HOME."
    )


@dataclass
class SparkServer:
    """A running local Thrift server. ``env`` holds the variables
    (``DATAPRODUCTS_SPARK_HOST``, ...) that point profiles.yml's target ``spark`` at it."""

    port: int
    workdir: Path
    #: Spark Connect's port (the same JVM and catalog as the Thrift server).
    connect_port: int = 0
    host: str = "127.0.0.1"
    user: str = DEFAULT_USER
    #: Seconds from launching the JVM to the first answered query.
    startup_seconds: float = 0.0
    watchdog: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATAPRODUCTS_SPARK_HOST": self.host,
            "DATAPRODUCTS_SPARK_PORT": str(self.port),
            "DATAPRODUCTS_SPARK_USER": self.user,
            "DATAPRODUCTS_SPARK_CONNECT_URL": self.connect_url,
        }

    @property
    def connect_url(self) -> str:
        """The Spark Connect endpoint of the same JVM (``sc://host:port``)."""
        return f"sc://{self.host}:{self.connect_port}"

    @property
    def log(self) -> Path:
        return self.workdir / "server.log"

    @property
    def jvm_pid(self) -> int | None:
        """The server JVM's pid (None before the watchdog has started it)."""
        try:
            return int((self.workdir / "server.pid").read_text())
        except (OSError, ValueError):
            return None

    def connect(self) -> Any:
        """A PyHive connection (DB-API) to the server."""
        return connect(self.host, self.port, self.user)

    def stop(self) -> None:
        """Stop the server and remove its work directory (idempotent)."""
        stop_watched(self.watchdog, timeout=60)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SparkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def connect(host: str, port: int, user: str = DEFAULT_USER) -> Any:
    """A PyHive connection to a Thrift server (what dbt-spark's ``method: thrift`` opens)."""
    from pyhive import hive

    return hive.connect(host=host, port=port, username=user)


def start_server(
    *,
    port: int | None = None,
    workdir: str | os.PathLike[str] | None = None,
    cores: int = 2,
    driver_memory: str = "2g",
    shuffle_partitions: int = 2,
    conf: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> SparkServer:
    """Start a local Spark Thrift server and wait until it answers (see the module doc).

    ``workdir`` (created if missing, removed when the server stops) defaults to a fresh
    temporary directory; ``conf`` adds or overrides Spark settings.
    """
    home = spark_home()
    java = find_java()
    jars = extra_jars()
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="dataproducts-spark-"))
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    (work / "tmp").mkdir(exist_ok=True)
    port = port or free_port()
    connect_port = free_port()
    settings = {
        "spark.master": f"local[{cores}]",
        "spark.app.name": "dataproducts-thrift-server",
        "spark.driver.memory": driver_memory,
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        "spark.local.dir": str(work / "tmp"),
        "spark.ui.enabled": "false",
        "spark.driver.extraClassPath": os.pathsep.join(str(jar) for jar in jars),
        "spark.sql.hive.thriftServer.async": "false",
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(connect_port),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={work / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={work} -Djava.io.tmpdir={work / 'tmp'} -Duser.timezone=UTC"
        ),
        **(conf or {}),
    }
    cmd = [str(home / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS]
    for key, value in settings.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd += [
        *("--hiveconf", f"hive.server2.thrift.port={port}"),
        *("--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1"),
        "spark-internal",
    ]
    env = {
        "PATH": f"{java.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "SPARK_HOME": str(home),
        "JAVA_HOME": str(java.resolve().parents[1]),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_CONF_DIR": str(work / "conf"),  # none of the machine's spark-defaults
        "HOME": str(work),
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        # Python workers (the ALS ranking's applyInPandas, sent through Spark Connect) run
        # this virtualenv's Python, which has numpy, pandas, pyarrow and this package
        "PYSPARK_PYTHON": sys.executable,
    }
    (work / "conf").mkdir(exist_ok=True)
    started = time.monotonic()
    watchdog = start_watched(
        cmd,
        workdir=work,
        log=work / "server.log",
        env=env,
        cwd=work,
        stop_signal=signal.SIGTERM,
        stop_timeout=30,
        pidfile=work / "server.pid",
    )
    server = SparkServer(port=port, workdir=work, connect_port=connect_port, watchdog=watchdog)
    atexit.register(server.stop)  # a fallback: the watchdog stops it anyway
    try:
        _wait_ready(server, timeout)
    except BaseException as exc:
        detail = _log_tail(server.log)
        server.stop()
        if isinstance(exc, Exception):
            raise WarehouseError(f"the Spark Thrift server did not start: {exc}\n{detail}") from exc
        raise
    server.startup_seconds = time.monotonic() - started
    return server


def _wait_ready(server: SparkServer, timeout: float) -> None:
    """Until a Thrift session opens and runs ``select 1`` (the first one warms Spark up)."""
    import socket

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if server.watchdog is not None and server.watchdog.poll() is not None:
            raise WarehouseError("the server exited")
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                pass
        except OSError as exc:
            last = exc
            time.sleep(0.5)
            continue
        try:
            with (
                contextlib.closing(server.connect()) as con,
                contextlib.closing(con.cursor()) as cur,
            ):
                cur.execute("select 1")
                cur.fetchall()
            if server.connect_port:  # Spark Connect listens too (started before Thrift)
                with socket.create_connection((server.host, server.connect_port), timeout=1):
                    pass
            return
        except Exception as exc:  # the port opens before the session service is ready
            last = exc
            time.sleep(0.5)
    raise TimeoutError(f"no answer on {server.host}:{server.port} in {timeout:.0f} s ({last})")


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def main() -> None:
    """Start a server in the foreground; print the variables that point dbt at it."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--workdir", default=None, help="default: a temporary directory")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--shuffle-partitions", type=int, default=2)
    parser.add_argument(
        "--install-jars",
        action="store_true",
        help="only install the jars the server needs that pyspark lacks, then exit",
    )
    args = parser.parse_args()
    if args.install_jars:
        for path in install_extra_jars():
            print(f"installed {path}")
        return

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)  # stop the server as Ctrl-C does
    server = start_server(
        port=args.port,
        workdir=args.workdir,
        driver_memory=args.driver_memory,
        shuffle_partitions=args.shuffle_partitions,
    )
    print(f"Spark Thrift server ready in {server.startup_seconds:.1f} s (log: {server.log})")
    for key, value in server.env.items():
        print(f"export {key}={value}")
    print("Ctrl-C stops it.", flush=True)
    try:
        while server.watchdog is not None and server.watchdog.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
