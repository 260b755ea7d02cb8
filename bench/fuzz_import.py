"""Run the import fuzzer (tests/ingest/import_fuzzer.py) for N minutes; print examples per second and any crack.

Usage: python bench/fuzz_import.py [--minutes 10] [--cli-share 0.25] [--seed S]
Rounds of 20 examples each, with fresh randomness, until the time is up; a quarter of the rounds
(by default) go through the command line and a store file, the others import in memory. A failing
example is shrunk by Hypothesis and printed with the mutation it carried; the run goes on.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "ingest")]

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from import_fuzzer import check_import, exports  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--cli-share", type=float, default=0.25, help="share of rounds run through the CLI")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.minutes * 60
    counts = collections.Counter()
    found: dict[str, str] = {}

    def one(case, skip_invalid, command_line):
        counts["examples"] += 1
        counts["cli" if command_line else "memory"] += 1
        for expect in case.expects:
            counts[expect.mutation] += 1
        outcome = check_import(case, skip_invalid, command_line=command_line)
        counts["refused" if outcome.refused else "imported"] += 1

    def round_of(command_line: bool):
        def example(case, skip_invalid):
            one(case, skip_invalid, command_line)

        return example

    started = time.monotonic()
    while time.monotonic() < deadline:
        command_line = rng.random() < args.cli_share  # per round, so a failure replays the same way
        test = seed(rng.getrandbits(64))(
            settings(
                max_examples=20,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                print_blob=True,
            )(given(case=exports(), skip_invalid=st.booleans())(round_of(command_line)))
        )
        try:
            test()
        except Exception as error:  # a crack: keep its shrunk report, go on with fresh randomness
            key = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
            if key not in found:
                found[key] = "".join(traceback.format_exception(error))[-4000:]
                print(f"\nFOUND {key}\n{found[key]}", flush=True)
        elapsed = time.monotonic() - started
        print(
            f"{elapsed / 60:5.1f} min  {counts['examples']} examples  {counts['examples'] / elapsed:.2f}/s  "
            f"({counts['cli']} via the CLI)  cracks: {len(found)}",
            flush=True,
        )
    elapsed = time.monotonic() - started
    print(f"\n{counts['examples']} examples in {elapsed / 60:.1f} min: {counts['examples'] / elapsed:.2f} per second")
    print(f"imported {counts['imported']}, refused {counts['refused']}; via the CLI {counts['cli']}")
    mutations = {k: v for k, v in counts.items() if k not in ("examples", "cli", "memory", "imported", "refused")}
    print("mutations drawn: " + ", ".join(f"{k} {v}" for k, v in sorted(mutations.items())))
    print(f"cracks found: {len(found)}" + "".join(f"\n  {k}" for k in found))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
