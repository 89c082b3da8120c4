"""A fault run: clients create invoices through the gateway while the sandboxes misbehave.

Run by hand, longer or wider than CI does, from the repository root:

    python -m tests.faults.fault_run --seconds 120 --clients 64

(or `FAULT_RUN_SECONDS=120 FAULT_RUN_CLIENTS=64 pytest tests/faults/test_fault_run.py -s`).
The exit status is 1 when the run found a duplicate, a lost invoice, an HTTP 5xx or an
unmasked error; the summary says what happened either way.

What a run does (`run_faults`):
1. serves the sandboxes and the gateway over them on 127.0.0.1;
2. sets the first fault phase on every sandbox and moves to the next every `phase_seconds`,
   while `clients` concurrent clients create invoices, each key sent until it succeeds (see
   `tests.faults.clients`); `shared` of the clients work in pairs that send each of their
   keys twice at the same moment;
3. after `seconds`, clients start no new key; the sandboxes are counted (every key a client
   was told succeeded must be held by exactly that invoice, no key by two), then the faults
   are cleared and the clients finish their retries (bounded by `settle_seconds`);
4. counts again: every attempted key must now be held exactly once, and no new invoice may
   be without a client key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from providers.http import HttpPolicy
from tests.faults.clients import Backoff, Tally, create_until_done
from tests.faults.invoices import Census, census, order_for, problems
from tests.faults.stack import PROVIDERS, Sandbox, Stack, stack

__all__ = ["DONE_WHEN_FAULTS", "Report", "RunConfig", "main", "run_faults"]

#: The faults of the acceptance run: 20% 503s and 5% connection resets.
DONE_WHEN_FAULTS: Mapping[str, object] = {"error_rate": 0.2, "status": 503, "reset_rate": 0.05}


@dataclass(frozen=True)
class RunConfig:
    providers: tuple[str, ...] = PROVIDERS
    phases: tuple[Mapping[str, object], ...] = (DONE_WHEN_FAULTS,)
    phase_seconds: float = 1.0
    #: how long the faults are on
    seconds: float = 10.0
    #: concurrent senders, `shared` of them in pairs sending each key twice at once
    clients: int = 32
    shared: int = 0
    #: a bound on the retries once the faults are cleared (normally done in well under a second)
    settle_seconds: float = 60.0
    max_keys_per_client: int = 100_000
    policy: HttpPolicy = field(default_factory=HttpPolicy)
    seed: int = 0
    prefix: str = "run"


@dataclass
class Report:
    config: RunConfig
    tally: Tally
    #: problems counted while the faults were still on, and after the clients finished
    during: list[str]
    after: list[str]
    censuses: dict[str, Census]
    upstream_requests: dict[str, int]

    def ok(self) -> bool:
        tally = self.tally
        return not (
            self.during
            or self.after
            or tally.http_5xx
            or tally.unmasked
            or tally.refused
            or tally.gave_up
        )

    def summary(self) -> str:
        config, tally = self.config, self.tally
        phases = "; ".join(json.dumps(dict(p), sort_keys=True) for p in config.phases)
        causes = ", ".join(f"{code} {n}" for code, n in tally.codes.most_common()) or "none"
        succeeded = len(tally.succeeded)
        lines = [
            f"fault run: {config.seconds:g} s of faults {phases} on {', '.join(config.providers)}"
            f"; {config.clients} concurrent clients ({config.shared} of them in pairs)",
            f"gateway requests: {tally.requests} ({tally.retries} retries); "
            f"keys attempted {len(tally.attempted)}, succeeded {succeeded}",
            f"failed attempts by cause: {causes}",
            f"HTTP 5xx from the gateway: {len(tally.http_5xx)}; unmasked errors: "
            f"{len(tally.unmasked)}; refusals: {len(tally.refused)}; gave up: {len(tally.gave_up)}",
        ]
        for name in config.providers:
            found = self.censuses[name]
            duplicates = sum(1 for ids in found.by_key.values() if len(ids) > 1)
            lines.append(
                f"{name}: {self.upstream_requests[name]} upstream requests, "
                f"{found.total()} invoices created for {len(found.by_key)} keys "
                f"({duplicates} keys duplicated, {len(found.strays)} without a key)"
            )
        verdict = "OK" if self.ok() else "FAILED"
        lines.append(f"{verdict}: {len(self.during)} problems during, {len(self.after)} after")
        lines.extend(f"  {problem}" for problem in [*self.during, *self.after][:20])
        return "\n".join(lines)


async def _client(
    running: Stack,
    config: RunConfig,
    tally: Tally,
    *,
    number: int,
    senders: int,
    faulting: asyncio.Event,
    backoff: Backoff,
) -> None:
    """Create keys one after the other while the faults are on; each key by `senders` at once."""
    rng = random.Random(f"{config.seed}:{number}")  # backoff jitter, repeatable
    names = config.providers
    for n in range(config.max_keys_per_client):
        if not faulting.is_set():
            return
        sandbox = running.sandboxes[names[(number + n) % len(names)]]
        order = order_for(sandbox, f"{config.prefix}-c{number}-k{n}", number + n)
        await asyncio.gather(
            *(
                create_until_done(running.http, order, tally, backoff=backoff, rng=rng)
                for _ in range(senders)
            )
        )


async def _inject(sandboxes: Sequence[Sandbox], config: RunConfig) -> None:
    """The fault phases in turn, for `config.seconds` (the last phase is cut short).

    A phase is only PUT when it differs from the one before: a PUT re-seeds the sandbox's
    draws, and the same few draws over and over would not be the rates asked for.
    """
    loop = asyncio.get_running_loop()
    end = loop.time() + config.seconds
    current: Mapping[str, object] | None = None
    for n in range(1_000_000):
        left = end - loop.time()
        if left <= 0:
            return
        phase = config.phases[n % len(config.phases)]
        if phase != current:
            await asyncio.gather(*(sandbox.set_faults(phase) for sandbox in sandboxes))
            current = phase
        await asyncio.sleep(min(config.phase_seconds, left))


async def run_faults(config: RunConfig) -> Report:
    """One run as the module docstring describes; every phase bounded in time."""
    if config.shared % 2 or config.shared > config.clients:
        raise ValueError("shared must be an even number of the clients")
    policies = dict.fromkeys(config.providers, config.policy)
    tally = Tally()
    async with stack(policies=policies, seed=config.seed) as running:
        sandboxes = [running.sandboxes[name] for name in config.providers]
        baseline = {s.name: s.invoice_ids() for s in sandboxes}
        loop = asyncio.get_running_loop()
        backoff = Backoff(give_up_at=loop.time() + config.seconds + config.settle_seconds)
        faulting = asyncio.Event()
        faulting.set()
        pairs = config.shared // 2
        solo = config.clients - config.shared
        clients = [
            asyncio.create_task(
                _client(
                    running,
                    config,
                    tally,
                    number=number,
                    senders=2 if number < pairs else 1,
                    faulting=faulting,
                    backoff=backoff,
                )
            )
            for number in range(pairs + solo)
        ]
        try:
            await _inject(sandboxes, config)
            faulting.clear()  # no new keys; the keys under way go on being retried
            during = _check(running, config, tally, baseline, settled=False)[1]
            await asyncio.gather(*(sandbox.clear_faults() for sandbox in sandboxes))
            await asyncio.wait_for(asyncio.gather(*clients), config.settle_seconds + 30)
            # A create the gateway gave up on may still be made: count once none is left.
            await asyncio.gather(*(sandbox.late.quiet() for sandbox in sandboxes))
        finally:
            for task in clients:
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
        censuses, after = _check(running, config, tally, baseline, settled=True)
        upstream = {s.name: await s.requests_served() for s in sandboxes}
    return Report(
        config=config,
        tally=tally,
        during=during,
        after=after,
        censuses=censuses,
        upstream_requests=upstream,
    )


def _check(
    running: Stack,
    config: RunConfig,
    tally: Tally,
    baseline: Mapping[str, set[str]],
    *,
    settled: bool,
) -> tuple[dict[str, Census], list[str]]:
    censuses: dict[str, Census] = {}
    wrong: list[str] = []
    for name in config.providers:
        found = census(running.sandboxes[name], baseline=baseline[name], keys=tally.attempted)
        censuses[name] = found
        wrong.extend(problems(found, tally, settled=settled))
    return censuses, wrong


def config_from(argv: Sequence[str] | None, environ: Mapping[str, str]) -> RunConfig:
    """The run `argv` asks for; defaults from FAULT_RUN_SECONDS and FAULT_RUN_CLIENTS."""
    parser = argparse.ArgumentParser(prog="python -m tests.faults.fault_run")
    parser.add_argument(
        "--seconds", type=float, default=float(environ.get("FAULT_RUN_SECONDS", 10))
    )
    parser.add_argument("--clients", type=int, default=int(environ.get("FAULT_RUN_CLIENTS", 32)))
    parser.add_argument("--shared", type=int, default=4, help="clients sending keys in pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--faults", type=json.loads, default=dict(DONE_WHEN_FAULTS), help="a PUT body, JSON"
    )
    args = parser.parse_args(argv)
    return RunConfig(
        seconds=args.seconds,
        clients=args.clients,
        shared=args.shared,
        seed=args.seed,
        phases=(args.faults,),
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = config_from(argv, os.environ)
    logging.basicConfig(level=logging.ERROR)  # the gateway warns on each provider failure
    report = asyncio.run(run_faults(config))
    print(report.summary())
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
