"""Where the workers of a job are: TF's ClusterSpec and cluster resolvers (tf.distribute.cluster_resolver).

TF_CONFIG, as TensorFlow reads it:
    {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}
A "chief" job, when present, is the first worker of the collective group (rank 0) and the workers follow.
"""
from __future__ import annotations

import json
import os


class ClusterSpec:
    """{job name: [address, ...]} (a list, or a {index: address} dict as TF also accepts)."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        if not isinstance(cluster, dict):
            raise TypeError(f"ClusterSpec: expected a dict of job name → list of 'host:port', got {cluster!r:.80}")
        self._jobs = {}
        for job, tasks in cluster.items():
            if isinstance(tasks, dict):
                tasks = [tasks[k] for k in sorted(tasks, key=int)]
            if not isinstance(tasks, (list, tuple)) or not all(isinstance(t, str) and ":" in t for t in tasks):
                raise ValueError(f"ClusterSpec: job {job!r} must list 'host:port' addresses, got {tasks!r:.120}")
            self._jobs[str(job)] = list(tasks)

    @property
    def jobs(self) -> list:
        return list(self._jobs)

    def job_tasks(self, job_name) -> list:
        return list(self._jobs.get(job_name, []))

    def num_tasks(self, job_name) -> int:
        return len(self._jobs.get(job_name, []))

    def task_address(self, job_name, task_index) -> str:
        return self._jobs[job_name][task_index]

    def as_dict(self) -> dict:
        return {job: list(tasks) for job, tasks in self._jobs.items()}

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return f"ClusterSpec({self.as_dict()})"


class ClusterResolver:
    """Base class: cluster_spec(), task_type, task_id, num_accelerators()."""
    task_type = None
    task_id = None
    rpc_layer = None
    environment = ""

    def cluster_spec(self) -> ClusterSpec:
        raise NotImplementedError

    def master(self, task_type=None, task_id=None, rpc_layer=None) -> str:
        task_type = task_type if task_type is not None else self.task_type
        task_id = task_id if task_id is not None else self.task_id
        if task_type is None or task_id is None:
            return ""
        address = self.cluster_spec().task_address(task_type, task_id)
        layer = rpc_layer or self.rpc_layer
        return f"{layer}://{address}" if layer else address

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None) -> dict:
        from .. import config
        gpus = len(config.list_physical_devices("GPU"))
        return {"GPU": gpus} if gpus else {}


class SimpleClusterResolver(ClusterResolver):
    def __init__(self, cluster_spec, master="", task_type=None, task_id=None, environment="",
                 num_accelerators=None, rpc_layer=None):
        self._cluster_spec = ClusterSpec(cluster_spec)
        self._master, self.task_type, self.task_id = master, task_type, task_id
        self.environment, self.rpc_layer = environment, rpc_layer
        self._num_accelerators = num_accelerators

    def cluster_spec(self):
        return self._cluster_spec

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        return self._master or super().master(task_type, task_id, rpc_layer)

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        return dict(self._num_accelerators) if self._num_accelerators is not None else super().num_accelerators()


class TFConfigClusterResolver(ClusterResolver):
    """Reads the TF_CONFIG environment variable (read again on each call, as TF does)."""

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        self._task_type, self._task_id = task_type, task_id
        self.rpc_layer, self.environment = rpc_layer, environment or ""

    @staticmethod
    def _config() -> dict:
        text = os.environ.get("TF_CONFIG", "").strip()
        if not text:
            return {}
        try:
            config = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON ({e}): {text!r:.200}") from None
        if not isinstance(config, dict):
            raise ValueError(f"TF_CONFIG must be a JSON object with 'cluster' and 'task', got {text!r:.200}")
        return config

    def cluster_spec(self) -> ClusterSpec:
        return ClusterSpec(self._config().get("cluster", {}))

    @property
    def task_type(self):
        return self._task_type if self._task_type is not None else self._config().get("task", {}).get("type")

    @task_type.setter
    def task_type(self, value):
        self._task_type = value

    @property
    def task_id(self):
        if self._task_id is not None:
            return self._task_id
        index = self._config().get("task", {}).get("index")
        return None if index is None else int(index)

    @task_id.setter
    def task_id(self, value):
        self._task_id = value


def collective_members(resolver) -> tuple:
    """(addresses of every worker in rank order: the chief first, then the workers; this task's rank)."""
    spec = resolver.cluster_spec()
    unknown = sorted(set(spec.jobs) - {"chief", "worker"})
    if unknown:
        raise ValueError(f"MultiWorkerMirroredStrategy: the cluster has job(s) {unknown}; only 'chief' and 'worker' "
                         f"take part in synchronous training ('ps' is for ParameterServerStrategy, which gpuflow "
                         f"does not have; run an 'evaluator' as a separate job without TF_CONFIG's cluster)")
    members = [("chief", i) for i in range(spec.num_tasks("chief"))] + \
              [("worker", i) for i in range(spec.num_tasks("worker"))]
    addresses = [spec.task_address(job, i) for job, i in members]
    task = (resolver.task_type, resolver.task_id)
    if task not in members:
        raise ValueError(f"MultiWorkerMirroredStrategy: this task ({task[0]!r}, index {task[1]!r}) is not in the "
                         f"cluster {spec.as_dict()}; set TF_CONFIG's task to one of its jobs and indices")
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"MultiWorkerMirroredStrategy: the cluster lists an address twice: {addresses}")
    return addresses, members.index(task)
