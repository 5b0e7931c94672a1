#!/usr/bin/env python3
"""An HTTP proxy on 127.0.0.1 that logs every request it carries, for the proxy tests.

    count-proxy.py --port-file FILE --log FILE [--require-login USER:PASSWORD]

It tunnels CONNECT (which AsyncHTTPClient uses for http:// and https:// endpoints alike) and forwards
absolute-form requests (what curl sends for http://), one per upstream connection, and appends one line per request to --log: `CONNECT host:port` or `GET http://...`,
so a test proves its traffic went through here. With --require-login, a request without that Basic
Proxy-Authorization is answered 407 and logged as `407 METHOD target`. Port 0 is picked by the system and written to --port-file
once listening. It runs until SIGTERM or SIGINT.
"""

import argparse
import asyncio
import base64
import os
import signal
import urllib.parse


def log(path, line):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = [tuple(line.split(":", 1)) for line in lines[1:] if ":" in line]
    return method, target, version, [(name.strip(), value.strip()) for name, value in headers]


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(reader, writer, log_path, login):
    try:
        while True:
            try:
                method, target, version, headers = await read_head(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if login is not None:
                expected = "Basic " + base64.b64encode(login.encode()).decode()
                given = next((value for name, value in headers if name.lower() == "proxy-authorization"), None)
                if given != expected:
                    log(log_path, f"407 {method} {target}")
                    writer.write(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    await writer.drain()
                    return
            log(log_path, f"{method} {target}")
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                try:
                    upstream_reader, upstream_writer = await asyncio.open_connection(host.strip("[]"), int(port))
                except OSError:
                    writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    return
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
                return
            url = urllib.parse.urlsplit(target)
            length = int(next((value for name, value in headers if name.lower() == "content-length"), "0"))
            body = await reader.readexactly(length) if length else b""
            path = url.path or "/"
            if url.query:
                path += "?" + url.query
            kept = [(n, v) for n, v in headers if n.lower() not in ("connection", "proxy-connection", "proxy-authorization")]
            request = f"{method} {path} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in kept)
            request += "Connection: close\r\n\r\n"
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(url.hostname, url.port or 80)
            except OSError:
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            upstream_writer.write(request.encode("latin-1") + body)
            await upstream_writer.drain()
            # The server closes after its answer (Connection: close), and says so: the client then closes too.
            await pipe(upstream_reader, writer)
            return
    finally:
        writer.close()


async def main():
    # A test runner may start us with SIGTERM ignored or blocked; the test stops us with it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--require-login")
    arguments = parser.parse_args()
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, arguments.log, arguments.require_login), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    with open(arguments.port_file + ".tmp", "w", encoding="utf-8") as handle_file:
        handle_file.write(str(port))
    os.replace(arguments.port_file + ".tmp", arguments.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
