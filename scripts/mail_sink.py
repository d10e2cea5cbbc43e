"""A local SMTP server that keeps every message it receives, for the demo and the tests.

Each message is written to DIR as <n>.eml (the raw RFC 5322 text, recipients in the
X-Sink-To header), numbered in arrival order, so a reader can list the folder and open
the newest. It accepts any sender and recipient and never relays anything anywhere.

    mail_sink.py --port 2525 --dir .run/demo/mail
"""
import argparse
import asyncio
import itertools
import os
import signal

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        existing = [int(n.split(".")[0]) for n in os.listdir(directory) if n.endswith(".eml")]
        self.numbers = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.numbers)
        path = os.path.join(self.directory, f"{n:06}.eml")
        partial = path + ".part"
        with open(partial, "wb") as f:
            f.write(b"X-Sink-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        # Renamed when whole: a reader never sees half a message.
        os.replace(partial, path)
        return "250 OK kept"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    controller = Controller(Keep(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink on {args.host}:{args.port}, messages in {args.dir}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
