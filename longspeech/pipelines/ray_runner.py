"""RayRunner: stage items run on Ray actors, on this machine or a cluster."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import LongspeechError
from ..progress import ProgressCallback, no_progress
from .stage_spec import StageSpec


class _StageActor:
    """A Ray actor that holds one stage instance."""

    def __init__(self, cls: type, config: Any):
        self.stage = cls(config)

    def call(self, item: Any) -> Any:
        return self.stage(item)

    def node(self) -> tuple[str, str | None]:
        """This actor's node id, and a notice when Ray reserved a GPU for it that torch
        cannot see (device "auto" then runs the stage on the CPU)."""
        import ray

        node = ray.get_runtime_context().get_node_id()
        if ray.get_gpu_ids():
            import torch

            if not torch.cuda.is_available():
                return node, (f"{type(self.stage).__name__} on node {node[:12]}: Ray reserved "
                              "a GPU but torch sees none there; it runs on the CPU (install a "
                              "CUDA build of torch on that node to use the GPU)")
        return node, None


# Environment a worker needs to find the same models and caches as the driver.
# Settings workers need as the driver has them. Secrets (HF_TOKEN) are not among them: a
# runtime_env is stored in the cluster's metadata; workers read secrets from their own
# environment (a local Ray's workers inherit this process's; set them on every node).
_WORKER_ENV = ("LONGSPEECH_CACHE", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_OFFLINE",
               "TRANSFORMERS_VERBOSITY", "TOKENIZERS_PARALLELISM", "LONGSPEECH_FFMPEG_TIMEOUT")


# Engines run a few threads each; more actors than cores / this would only oversubscribe.
# Ray would give an actor one OpenMP thread per CPU it reserves (a compute stage reserves
# one, so its engine would run single-threaded): compute actors are told this many instead.
THREADS_PER_ACTOR = 2


# Ray starts its workers at nice 15 so that its own services keep the CPU; stage actors at
# that priority get a few percent of a core beside any ordinary process, so a job on a busy
# machine would all but stop. They run at normal priority, as Ray runs a submitted job's
# driver.
WORKER_NICENESS = "0"


# A custom resource a cluster's answering nodes advertise (`ray start --resources
# '{"longspeech_answering": 1}'`): where a node has it, the answering stages run on such
# nodes only and take their GPUs, and every other stage (decoding included) takes no GPU and
# spreads over all nodes. Each answering actor asks for this small share of it.
ANSWERING_RESOURCE = "longspeech_answering"
ANSWERING_SHARE = 0.001


def _worker_env() -> dict[str, str]:
    return {k: os.environ[k] for k in _WORKER_ENV if k in os.environ}


@dataclass
class _Pool:
    actors: list[Any]
    load: list[int] = field(default_factory=list)
    dead: set[int] = field(default_factory=set)     # past their restarts: never used again

    def live(self) -> list[int]:
        return [i for i in range(len(self.actors)) if i not in self.dead]


class RayRunner:
    """Stage actors on a Ray cluster: `address` joins one ("auto", "ray://host:port",
    "host:port"); without it a local Ray starts for this job.

    Actors restart when they die (max_restarts) and Ray retries the calls they had in flight
    (max_task_retries); an exception raised by a stage is not retried: it is the item's
    own failure and goes back to the scheduler.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, actors: dict[str, int] | None = None,
                 max_restarts: int = 3,
                 max_task_retries: int = 3, depth: int = 2,
                 object_store_mb: int = 256, call_timeout: float | None = 3600.0):
        """call_timeout: seconds to wait for any in-flight call before the oldest one fails
        its recording (its actor is restarted); None waits for ever."""
        self.address = address
        self.call_timeout = call_timeout
        self.actors = dict(actors or {})     # stage name -> actor count (else sized here)
        self.max_restarts = max_restarts
        self.max_task_retries = max_task_retries
        self.depth = depth          # calls queued per actor, so none idles between items
        self.object_store_mb = object_store_mb
        self.pools: dict[str, _Pool] = {}
        # stage -> (spec, actors, GPU share of each, pinned to answering nodes); started on
        # first use
        self.plans: dict[str, tuple[StageSpec, int, float, bool]] = {}
        self.broken: dict[str, LongspeechError] = {}    # stages whose actors cannot start
        self.started: set[str] = set()      # stages that were given work (actors started)
        self._failed: list[tuple[int, LongspeechError]] = []   # their items, answered at once
        self.placement: dict[str, list[str]] = {}   # stage -> node id of each actor
        self.notices: list[str] = []        # actors whose reserved GPU torch cannot see
        self._refs: dict[Any, tuple[int, str, int]] = {}
        self._next = 0
        self._started_ray = False

    # -- cluster --------------------------------------------------------------------------
    def _init(self, specs: dict[str, StageSpec]) -> None:
        import ray

        if ray.is_initialized():
            return
        env = _worker_env()
        kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False,
                                      logging_level="ERROR",
                                      runtime_env={"env_vars": env} if env else None)
        if self.address is None:
            kwargs["object_store_memory"] = self.object_store_mb * 1024 * 1024
            # On this machine the per-recording stages (diarize, correct, answer) wait on
            # the chunk stages' results more than they compute beside them: let every
            # stage have its actor even where their CPU shares add up to more than the cores.
            cores = float(os.cpu_count() or 1)
            need = sum((self.actors.get(name) or spec.actors
                        or self._cpu_actors(spec.cls, cores)) * spec.cls.num_cpus
                       for name, spec in specs.items())
            kwargs["num_cpus"] = max(int(cores), math.ceil(need))
        try:
            # Without an address this job starts a Ray of its own ("local"), even beside a
            # running cluster, which it joins only when asked (--address auto).
            ray.init(address=self.address or "local", **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise LongspeechError(
                f"cannot join the Ray cluster at {self.address}: {e}. Start one with "
                "`ray start --head`, or leave out --address to run on this machine") from e
        self._started_ray = True

    def resources(self) -> dict[str, float]:
        import ray

        return ray.cluster_resources()

    @staticmethod
    def _cpu_actors(cls: type, cpus: float) -> int:
        """Light stages (num_cpus < 1) get one actor; a compute stage one actor per
        THREADS_PER_ACTOR cores left after the light ones (at least one)."""
        if cls.num_cpus < 1:
            return 1
        return max(1, int((cpus - 0.5) // THREADS_PER_ACTOR))

    def start(self, specs: dict[str, StageSpec], report: ProgressCallback = no_progress) -> None:
        """Join or start the cluster and check that it can hold each stage's actors; each
        stage's actors start when its first item is submitted, so a job whose every step is
        saved loads no model. Stages on Ray report only when an item is done, so `report`
        is not called."""
        self._init(specs)
        res = self.resources()
        cpus, gpus = res.get("CPU", 1.0), int(res.get("GPU", 0))
        answering_nodes = res.get(ANSWERING_RESOURCE, 0) > 0

        def takes_gpu(spec: StageSpec) -> bool:
            return gpus > 0 and spec.cls.num_gpus > 0 and (spec.cls.answering
                                                           or not answering_nodes)

        # The stages that take GPUs share them: one actor of each per GPU, each with an
        # equal share of it.
        share = 1 / max(1, sum(takes_gpu(spec) for spec in specs.values()))
        need_cpu = need_gpu = 0.0
        for name, spec in specs.items():
            pinned = answering_nodes and spec.cls.answering
            gpu = share if takes_gpu(spec) else 0.0
            n = self.actors.get(name) or spec.actors or (gpus if gpu else
                                                         self._cpu_actors(spec.cls, cpus))
            need_cpu += n * spec.cls.num_cpus
            need_gpu += n * gpu
            self.plans[name] = (spec, n, gpu, pinned)
        if need_cpu > cpus or need_gpu > gpus + 1e-9:
            raise LongspeechError(
                f"the stage actors need {need_cpu:g} CPUs and {need_gpu:g} GPUs but the Ray "
                f"cluster has {cpus:g} CPUs and {gpus} GPUs: ask for fewer actors or add nodes")

    def _pool(self, name: str) -> _Pool:
        """The stage's actors, started (and their models loaded) on first use: a stage
        that cannot start fails with its own message."""
        if name in self.pools:
            return self.pools[name]
        import ray

        spec, n, gpu, pinned = self.plans[name]
        threads = THREADS_PER_ACTOR if spec.cls.num_cpus >= 1 else 1
        env = {**_worker_env(), "OMP_NUM_THREADS": str(threads),
               "RAY_worker_niceness": WORKER_NICENESS}
        # Answering actors stay on the answering nodes; the others spread over every node.
        where: dict[str, Any] = ({"resources": {ANSWERING_RESOURCE: ANSWERING_SHARE}}
                                 if pinned else {"scheduling_strategy": "SPREAD"})
        actor = ray.remote(_StageActor).options(
            num_cpus=spec.cls.num_cpus, num_gpus=gpu,
            runtime_env={"env_vars": env}, **where,
            max_restarts=self.max_restarts, max_task_retries=self.max_task_retries)
        pool = _Pool([actor.remote(spec.cls, spec.config) for _ in range(n)], [0] * n)
        try:
            nodes = ray.get([a.node.remote() for a in pool.actors])
            self.placement[name] = [node for node, _ in nodes]
            self.notices += [notice for _, notice in nodes if notice]
        except ray.exceptions.RayActorError as e:
            for a in pool.actors:
                ray.kill(a, no_restart=True)
            cause = getattr(e, "cause", None) or e
            raise LongspeechError(f"the {name} stage could not start: {cause}") from None
        self.pools[name] = pool
        self.started.add(name)
        return pool

    # -- work -----------------------------------------------------------------------------
    def free(self, stage: str) -> bool:
        if stage not in self.pools:
            return True     # its actors start with its first item (or it cannot start)
        pool = self.pools[stage]
        live = pool.live()
        if not live:
            raise LongspeechError(f"every {stage} worker died past its restarts; see the Ray "
                                  "logs (`ray logs`), then run the same command again")
        return min(pool.load[i] for i in live) < self.depth

    def busy(self) -> bool:
        return bool(self._refs) or bool(self._failed)

    def submit(self, stage: str, item: Any) -> int:
        self._next += 1
        if stage not in self.broken:
            try:
                pool = self._pool(stage)
            except LongspeechError as e:    # each of its items fails, as on LocalRunner
                self.broken[stage] = e
        if stage in self.broken:
            self._failed.append((self._next, self.broken[stage]))
            return self._next
        i = min(pool.live(), key=pool.load.__getitem__)
        pool.load[i] += 1
        self._refs[pool.actors[i].call.remote(item)] = (self._next, stage, i)
        return self._next

    def next_done(self) -> tuple[int, Any, BaseException | None]:
        import ray
        from ray.exceptions import RayActorError, RayTaskError

        if self._failed:
            ticket, error = self._failed.pop(0)
            return ticket, None, error
        ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=self.call_timeout)
        if not ready:
            # Nothing finished in time: the oldest call fails its recording, and its actor
            # restarts so that the stage goes on.
            ref = min(self._refs, key=lambda r: self._refs[r][0])
            ticket, stage, i = self._refs.pop(ref)
            self.pools[stage].load[i] -= 1
            ray.kill(self.pools[stage].actors[i], no_restart=False)
            return ticket, None, LongspeechError(
                f"a {stage} call took more than {self.call_timeout:g} s; see the Ray logs, "
                "or allow more time (--worker-timeout)")
        ref = ready[0]
        ticket, stage, i = self._refs.pop(ref)
        self.pools[stage].load[i] -= 1
        try:
            return ticket, ray.get(ref), None
        except RayTaskError as e:
            # The stage's own exception, unwrapped: its message is the user's error.
            cause = e.cause if isinstance(e.cause, BaseException) else e
            return ticket, None, cause
        except RayActorError as e:
            self.pools[stage].dead.add(i)
            return ticket, None, LongspeechError(
                f"a {stage} worker died {self.max_restarts + 1} times while processing this "
                f"recording ({e.__class__.__name__}); see the Ray logs")

    def close(self) -> None:
        import ray

        for pool in self.pools.values():
            for a in pool.actors:
                ray.kill(a, no_restart=True)
        self.pools.clear()
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False


__all__ = ["ANSWERING_RESOURCE", "RayRunner", "THREADS_PER_ACTOR"]
