"""``python -m jupyter_remote_dev.services.spend_meter``: run as a JupyterHub-managed service.

Reads the hub's service environment (JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN,
JUPYTERHUB_SERVICE_URL, JUPYTERHUB_SERVICE_PREFIX), meters every ``--interval`` seconds and answers
until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubAuth

from ...hub.labels import CostLabels
from .allocation import Ledger
from .hub import HubServers
from .meter import Meter
from .pricing import Rates
from .store import UsageStore
from .web import make_app

log = logging.getLogger("jupyter_remote_dev.spend_meter")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="spend_meter", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="sqlite file of the history")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--retention-days", type=float, default=400.0)
    rates = Rates()
    parser.add_argument("--cpu-price", type=float, default=rates.cpu_core_hour,
                        help="price of a CPU core-hour (OpenCost's default)")  # fmt: skip
    parser.add_argument("--ram-price", type=float, default=rates.ram_gib_hour,
                        help="price of a GiB-hour of memory (OpenCost's default)")  # fmt: skip
    parser.add_argument("--user-label", default="owner")
    parser.add_argument("--team-label", default="team")
    parser.add_argument("--team-group-pattern", default="")
    parser.add_argument("--default-team", default="")
    args = parser.parse_args(argv)
    if not args.interval > 0:
        parser.error("--interval must be > 0")
    return args


async def meter_forever(meter: Meter, hub: HubServers, args, stop: asyncio.Event) -> None:
    """Sample every interval until ``stop``; a hub that does not answer skips that sample."""
    while not stop.is_set():
        try:
            meter.sample(await hub.running(), time.time())
            meter.store.prune(time.time() - args.retention_days * 86400)
        except Exception as error:
            log.warning("spend meter: sample skipped: %s", error)
        try:
            await asyncio.wait_for(stop.wait(), args.interval)
        except asyncio.TimeoutError:
            pass


async def main(args) -> None:
    env = os.environ
    labels = CostLabels(
        user_label=args.user_label, team_label=args.team_label,
        team_group_pattern=args.team_group_pattern, default_team=args.default_team,
        auth_state_labels={},
    )  # fmt: skip
    store = UsageStore(args.db)
    auth = HubAuth(api_url=env["JUPYTERHUB_API_URL"], api_token=env["JUPYTERHUB_API_TOKEN"],
                   cache_max_age=60)  # fmt: skip

    async def identify(token: str):
        return await auth.user_for_token(token, sync=False)

    ledger = Ledger(store, Rates(args.cpu_price, args.ram_price))
    app = make_app(env.get("JUPYTERHUB_SERVICE_PREFIX", "/"), ledger, identify)
    url = urlsplit(env["JUPYTERHUB_SERVICE_URL"])
    server = app.listen(url.port, address=url.hostname or "127.0.0.1")
    hub = HubServers(env["JUPYTERHUB_API_URL"], env["JUPYTERHUB_API_TOKEN"], labels)
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    log.info("spend meter on %s, history in %s", url.geturl(), args.db)
    try:
        await meter_forever(Meter(store), hub, args, stop)
    finally:
        server.stop()
        store.close()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="[%(levelname)1.1s %(asctime)s spend] %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per hub poll
    asyncio.run(main(parse_args()))
