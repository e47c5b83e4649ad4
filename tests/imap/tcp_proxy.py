#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 for tests: forwards to a server, logs what clients send, and can cut
one connection mid-stream, as a network fault or a server restart would.

    tcp_proxy.py STATE_DIR SERVER_PORT [--cut-after BYTES]

Listens on a free port, writes it to STATE_DIR/port and its pid to STATE_DIR/pid, and goes to
the background. Everything clients send is appended to STATE_DIR/client.log. With --cut-after,
the first connection whose client has sent more than BYTES is closed both ways (once), and
STATE_DIR/cut is written.
"""
import os
import socket
import sys
import threading


def main():
    state, server_port = sys.argv[1], int(sys.argv[2])
    cut_after = int(sys.argv[sys.argv.index("--cut-after") + 1]) if "--cut-after" in sys.argv else -1
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(os.path.join(state, "port"), "w") as f:
        f.write(str(listener.getsockname()[1]))
    if os.fork():
        os._exit(0)
    os.setsid()
    with open(os.path.join(state, "pid"), "w") as f:
        f.write(str(os.getpid()))
    log = open(os.path.join(state, "client.log"), "ab", buffering=0)
    lock = threading.Lock()
    done = {"cut": cut_after < 0}

    def serve(client):
        try:
            upstream = socket.create_connection(("127.0.0.1", server_port))
        except OSError:
            client.close()
            return
        sent = [0]

        def close_both():
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def pump(src, dst, from_client):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if from_client:
                        with lock:
                            log.write(data)
                            sent[0] += len(data)
                            if not done["cut"] and sent[0] > cut_after:
                                done["cut"] = True
                                keep = len(data) - (sent[0] - cut_after)
                                dst.sendall(data[:max(0, keep)])
                                open(os.path.join(state, "cut"), "w").close()
                                close_both()
                                return
                    dst.sendall(data)
            except OSError:
                pass
            close_both()

        threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
        pump(client, upstream, True)

    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
