#!/usr/bin/env python3
"""The source server's read floor: what reading every message once costs the source, with nothing
written anywhere. Logs into each user's mailbox as "user*ADMIN" (Dovecot's master form), and for
every selectable folder runs one EXAMINE and one UID FETCH 1:* BODY.PEEK[]; CONNECTIONS threads
share the users. Measured in the same run as crossmove and the target's APPEND ceiling
(bench/imap_copy.sh): on one machine the source's CPU for this and the target's for the ceiling
add up, and bound what any IMAP -> IMAP move can reach. Deliberately independent of crossmove.

    read_floor.py HOST PORT ADMIN SECRET_FILE CONNECTIONS USERS_FILE

Prints "messages bytes seconds".
"""
import imaplib
import queue
import sys
import threading
import time


def main():
    host, port, admin, secret_file, connections, users_file = sys.argv[1:7]
    secret = open(secret_file).read().splitlines()[0]
    users = queue.Queue()
    for user in open(users_file).read().split():
        users.put(user)
    totals = [0, 0]
    lock = threading.Lock()

    def read_mailboxes():
        while True:
            try:
                user = users.get_nowait()
            except queue.Empty:
                return
            imap = imaplib.IMAP4(host, int(port))
            imap.login(f"{user}*{admin}", secret)
            _, listing = imap.list()
            messages = size = 0
            for line in listing:
                line = line.decode()
                if "\\Noselect" in line or "\\NonExistent" in line:
                    continue
                name = line.rsplit(' "/" ', 1)[1]
                imap.select(name, readonly=True)
                _, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
                for item in data:
                    if isinstance(item, tuple):
                        messages += 1
                        size += len(item[1])
            imap.logout()
            with lock:
                totals[0] += messages
                totals[1] += size

    start = time.monotonic()
    threads = [threading.Thread(target=read_mailboxes) for _ in range(int(connections))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(totals[0], totals[1], f"{time.monotonic() - start:.3f}")


if __name__ == "__main__":
    main()
