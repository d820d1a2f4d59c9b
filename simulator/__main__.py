"""`python -m simulator --port 8081`: run the simulator standalone until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from simulator.limits import Limits
from simulator.server import run_simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Local Telegram Bot API simulator with a web chat."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument(
        "--token", action="append", default=[], help="register a bot token up front (repeatable)"
    )
    parser.add_argument("--no-limits", action="store_true", help="do not enforce flood limits")
    parser.add_argument(
        "--private-burst",
        type=int,
        default=Limits.private_burst,
        help="messages a private chat may get at once before the 1/s limit applies",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    limits = Limits(enabled=not args.no_limits, private_burst=args.private_burst)
    async with run_simulator(limits=limits, host=args.host, port=args.port) as sim:
        for token in args.token:
            sim.add_bot(token)
        print(f"Simulator: Bot API at {sim.base_url}/bot<token>/<method>", flush=True)
        print(f"Web chat:  {sim.base_url}/", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
