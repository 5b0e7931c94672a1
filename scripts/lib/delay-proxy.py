#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that delays every chunk by a fixed time in each direction, for scripts/bench.

    delay-proxy.py --upstream 127.0.0.1:7480 --delay-ms 10 --port-file FILE

It models a distant server on a link with that one-way delay: each chunk read from one side is written to
the other DELAY later, in order, so a request and its response cost two delays (one round trip) on top of
what the server takes. A new connection also pays one round trip before its first byte goes on, as a TCP
handshake would. Nothing is buffered beyond the delay, and the proxy never reads HTTP. Port 0 picks a free
port, written to --port-file once listening. It runs until SIGTERM or SIGINT.
"""

import argparse
import asyncio


async def pump(reader, writer, delay, not_before):
    """Copies reader to writer, each chunk `delay` seconds after it arrived (and not before `not_before`)."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((max(loop.time(), not_before) + delay, data or None))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        # One side went away: handle() closes both.
        pass
    finally:
        sender.cancel()


async def handle(client_reader, client_writer, upstream, delay):
    loop = asyncio.get_running_loop()
    try:
        server_reader, server_writer = await asyncio.open_connection(*upstream)
    except OSError:
        client_writer.close()
        return
    # The handshake's round trip: the client's first bytes leave one round trip after it connected.
    handshake_done = loop.time() + 2 * delay
    try:
        await asyncio.gather(
            pump(client_reader, server_writer, delay, handshake_done),
            pump(server_reader, client_writer, delay, handshake_done),
        )
    finally:
        for writer in (client_writer, server_writer):
            writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="host:port to forward to")
    parser.add_argument("--delay-ms", type=float, required=True, help="one-way delay per chunk, in milliseconds")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--port-file", help="write the port here once listening")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    upstream = (host, int(port))
    delay = args.delay_ms / 1000
    # asyncio sets TCP_NODELAY on every stream it makes, so the proxy adds no Nagle delay of its own.
    server = await asyncio.start_server(lambda r, w: handle(r, w, upstream, delay), "127.0.0.1", args.port)
    if args.port_file:
        with open(args.port_file, "w", encoding="utf-8") as file:
            file.write(f"{server.sockets[0].getsockname()[1]}\n")
    # SIGTERM ends it where it stands (the default action): a benchmark proxy has nothing to flush.
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
