"""The versions of one model: found under {base_path}/{integer version}/, loaded, served, unloaded.

Each poll lists the version folders that hold a saved_model.json, lets the model's version policy pick the
ones to serve, loads the new ones (LOADING, then AVAILABLE, or END with the load's error in its status) and
unloads the ones no longer picked, but only once one that is picked is AVAILABLE: TF Serving's
availability-preserving policy, so a swap never leaves the model without a version and a broken new version
leaves the old one serving. A version that failed is not retried until its files change. Requests hold the
Servable they started with, so unloading a version never cuts one short.
"""
from __future__ import annotations

import logging
import os
import threading

from .errors import ServingError, not_found, status_code_of
from .servable import Servable

log = logging.getLogger("gpuflow.serving")

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


def versions_on_disk(base_path) -> dict:
    """{version: folder} for the integer-named folders of base_path that hold a SavedModel's manifest (a
    folder still being copied in without it is not a version yet)."""
    try:
        names = os.listdir(base_path)
    except OSError:
        return {}
    found = {}
    for name in names:
        path = os.path.join(base_path, name)
        if name.isdigit() and os.path.isfile(os.path.join(path, "saved_model.json")):
            found[int(name)] = path
    return found


def _fingerprint(path):
    """What changes when a version's files are rewritten: the manifest's and tensor file's times and sizes."""
    out = []
    for part in ("saved_model.json", os.path.join("variables", "variables.safetensors")):
        try:
            info = os.stat(os.path.join(path, part))
            out.append((info.st_mtime_ns, info.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class VersionStatus:
    __slots__ = ("state", "error_code", "error_message")

    def __init__(self, state, error_code="OK", error_message=""):
        self.state, self.error_code, self.error_message = state, error_code, error_message


class ModelManager:
    def __init__(self, config, on_available=None, on_unloaded=None):
        self.config = config
        self.name = config.name
        self._on_available = on_available or (lambda servable: None)   # e.g. start its batcher, record load time
        self._on_unloaded = on_unloaded or (lambda servable: None)
        self._lock = threading.Lock()
        self._status: dict[int, VersionStatus] = {}
        self._servables: dict[int, Servable] = {}    # replaced, never changed in place: readers need no lock
        self._failed: dict[int, tuple] = {}          # version → fingerprint of the files that failed to load
        self._polled = False                         # until the first poll ends, every request hears "loading"

    # ---------------------------------------------------------------- polling
    def poll(self):
        on_disk = versions_on_disk(self.config.base_path)
        wanted = self.config.policy.select(on_disk)
        for version in sorted(wanted - set(self._servables), reverse=True):  # newest first: it serves soonest
            path = on_disk[version]
            if self._failed.get(version) == _fingerprint(path):
                continue
            self._load(version, path)
        if any(v in self._servables for v in wanted):
            for version in sorted(set(self._servables) - wanted):
                self._unload(version)
        self._polled = True

    def _set(self, version, status):
        with self._lock:
            self._status[version] = status

    def _load(self, version, path):
        self._set(version, VersionStatus(LOADING))
        log.info("Loading servable version {name: %s version: %d} from %s", self.name, version, path)
        fingerprint = _fingerprint(path)
        try:
            servable = Servable.load(self.name, version, path)
            self._on_available(servable)
        except Exception as e:  # noqa: BLE001 - any failure is this version's status; the others keep serving
            self._failed[version] = fingerprint
            self._set(version, VersionStatus(END, status_code_of(e), f"{type(e).__name__}: {e}"))
            log.error("Loading servable version {name: %s version: %d} failed: %s", self.name, version, e)
            return
        self._failed.pop(version, None)
        with self._lock:
            self._servables = {**self._servables, version: servable}
            self._status[version] = VersionStatus(AVAILABLE)
        log.info("Successfully loaded servable version {name: %s version: %d} in %.2f s", self.name, version,
                 servable.load_seconds)

    def _unload(self, version):
        self._set(version, VersionStatus(UNLOADING))
        with self._lock:
            servable = self._servables[version]
            self._servables = {v: s for v, s in self._servables.items() if v != version}
        self._on_unloaded(servable)   # in-flight requests still hold it and finish
        self._set(version, VersionStatus(END))
        log.info("Unloaded servable version {name: %s version: %d}", self.name, version)

    def stop(self):
        for version in sorted(self._servables):
            self._unload(version)

    # ---------------------------------------------------------------- requests
    def label_version(self, label) -> int:
        version = self.config.labels.get(label)
        if version is None:
            raise not_found(f"Unrecognized servable version label: {label} (model {self.name} has labels "
                            f"{sorted(self.config.labels)})")
        return version

    def _starting(self):
        return ServingError("UNAVAILABLE", f"Servable {self.name} is loading (the server is starting); retry soon")

    def resolve(self, version=None, label=None) -> Servable:
        """The servable a request for `version` / `label` / the latest version runs on."""
        if label is not None:
            version = self.label_version(label)
        servables = self._servables
        if not servables and not self._polled:
            raise self._starting()
        if version is not None:
            servable = servables.get(version)
            if servable is not None:
                return servable
            status = self._status.get(version)
            if status is not None and status.state in (START, LOADING):
                raise ServingError("UNAVAILABLE", f"Servable {self.name} version {version} is loading; retry soon")
            raise not_found(f"Servable not found for request: Specific({self.name}, {version})")
        if servables:
            return servables[max(servables)]
        if any(s.state in (START, LOADING) for s in self._status.values()):
            raise ServingError("UNAVAILABLE", f"Servable {self.name} is loading; retry soon")
        raise not_found(f"Servable not found for request: Latest({self.name})")

    def status(self, version=None, label=None) -> dict:
        """GetModelStatusResponse as JSON: the versions' states, newest first."""
        if label is not None:
            version = self.label_version(label)
        with self._lock:
            status = dict(self._status)
        if version is not None:
            if version not in status:
                raise self._starting() if not self._polled else not_found(
                    f"Could not find version {version} of model {self.name}")
            status = {version: status[version]}
        elif not status:
            raise self._starting() if not self._polled else not_found(f"Could not find any versions of model "
                                                                      f"{self.name}")
        return {"model_version_status": [
            {"version": str(v), "state": s.state, "status": {"error_code": s.error_code,
                                                             "error_message": s.error_message}}
            for v, s in sorted(status.items(), reverse=True)]}


class Poller:
    """Polls a model's base path on its own thread: once at start, then every `wait` seconds (once only when
    `wait` <= 0, as TF Serving's --file_system_poll_wait_seconds=0)."""

    def __init__(self, manager, wait):
        self.manager, self.wait = manager, wait
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"poll-{manager.name}", daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.manager.poll()
            except Exception:  # noqa: BLE001 - a poll that fails (a vanished folder) is tried again next time
                log.exception("Polling %s failed", self.manager.config.base_path)
            if self.wait <= 0 or self._stop.wait(self.wait):
                return

    def stop(self):
        self._stop.set()
