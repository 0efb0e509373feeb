"""`python -m bench` (what `make bench` runs): make the province if needed, then measure.

python -m bench [--small] [--regenerate] [--reps N] [--seconds S] [--workers W]
                [--no-tipg] [--only TEXT] [--generate-only]
"""

from __future__ import annotations

import argparse
import sys

from bench import generate, harness, report
from bench.province import SCALES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the 1/50 province (a quick run)")
    parser.add_argument("--regenerate", action="store_true", help="remake the province")
    parser.add_argument("--seed", type=int, default=generate.SEED)
    parser.add_argument("--reps", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn (and TiPg) workers")
    parser.add_argument("--tipg-rounds", type=int, default=3)
    parser.add_argument(
        "--minutes", type=float, default=12, help="time for all single-request timings"
    )
    parser.add_argument("--no-tipg", action="store_true", help="skip the TiPg comparison")
    parser.add_argument("--only", help="only scenarios whose name or group contains this")
    parser.add_argument("--generate-only", action="store_true", help="make the province, stop")
    args = parser.parse_args(argv)
    scale = "small" if args.small else "full"
    if args.generate_only:
        generate.ensure(SCALES[scale], args.seed, args.regenerate)
        return 0
    opts = harness.Options(
        scale=scale,
        regenerate=args.regenerate,
        seed=args.seed,
        reps=args.reps,
        warmup=args.warmup,
        wrk_seconds=args.seconds,
        workers=args.workers,
        tipg=not args.no_tipg,
        tipg_rounds=args.tipg_rounds,
        latency_minutes=args.minutes,
        only=args.only,
    )
    result = harness.run(opts)
    report.write_json(opts.out / "results.json", result)
    harness.print_results(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
