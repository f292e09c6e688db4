"""`python -m flightdeck send [--url URL] [DIR]`: sends a spool directory's files now.

The files of processes still running are left to them; the rest are sent in order and
deleted once the server has them. DIR defaults to the spool of URL (`FLIGHTDECK_URL`). A
single spool file can also be posted as it is: it is the NDJSON that `POST /api/v1/events`
takes (`curl --data-binary @FILE -H 'content-type: application/x-ndjson' URL/api/v1/events`).
"""

import argparse
import sys

from ._client import Client


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m flightdeck", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="send the spooled messages of processes that are gone")
    send.add_argument("directory", nargs="?", help="the spool directory [default: the URL's]")
    send.add_argument("--url", help="the Flightdeck server [default: $FLIGHTDECK_URL or http://127.0.0.1:7329]")
    send.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server [default: 60]")
    args = parser.parse_args(argv)

    client = Client(args.url, spool=args.directory or True, propagate=False)
    ok = client.flush(args.timeout)
    stats = client.stats()
    client.close(timeout=1.0)
    print(f"sent {stats.sent} message(s); {stats.rejected} refused; {stats.pending} left", file=sys.stderr)
    return 0 if ok and not stats.pending else 1


if __name__ == "__main__":
    sys.exit(main())
