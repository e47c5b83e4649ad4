#!/usr/bin/env python3
"""Mail arriving during a move: sends messages over SMTP, one every 1/RATE seconds, to the
addresses of ADDRESSES_FILE in turn (one per line), each with its own Message-ID
<trickle-N@crossmove.test>, as a sending MTA would: a temporary failure (4xx) is tried again
after a moment, a permanent one (5xx) is a bounce. It sends at least COUNT messages and goes on
until STATE_DIR/stop exists, so that the trickle outlasts a move however long the move takes.

    smtp_trickle.py HOST:PORT ADDRESSES_FILE STATE_DIR COUNT RATE

Goes to the background at once. STATE_DIR/sent gets "N<TAB>address<TAB>code" per message as it
is answered (250, or the bounce's code); STATE_DIR/done is written at the end.
"""
import os
import smtplib
import sys
import time


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    addresses = [a.strip() for a in open(sys.argv[2]) if a.strip()]
    state, count, rate = sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    if os.fork():
        os._exit(0)
    os.setsid()
    log = open(os.path.join(state, "sent"), "a", buffering=1)
    smtp = None
    start = time.monotonic()
    stop = os.path.join(state, "stop")
    n = 0
    # Ten minutes, or its directory gone: the test that started it has ended without a stop.
    while (n < count or not os.path.exists(stop)) and time.monotonic() - start < 600 \
            and os.path.isdir(state):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rcpt = addresses[n % len(addresses)]
        body = (f"From: sender@elsewhere.test\r\nTo: {rcpt}\r\nSubject: trickle {n}\r\n"
                f"Message-ID: <trickle-{n}@crossmove.test>\r\n\r\nmessage {n} during the move\r\n")
        code = 0
        for attempt in range(50):
            try:
                if smtp is None:
                    smtp = smtplib.SMTP(host, int(port), timeout=30)
                refused = smtp.sendmail("sender@elsewhere.test", [rcpt], body)
                code = 250 if not refused else refused[rcpt][0]
            except smtplib.SMTPRecipientsRefused as e:
                code = e.recipients[rcpt][0]
            except (smtplib.SMTPException, OSError):
                smtp = None
                code = 421
            if code // 100 != 4:
                break
            time.sleep(0.1)
        log.write(f"{n}\t{rcpt}\t{code}\n")
        n += 1
    if smtp is not None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
    open(os.path.join(state, "done"), "w").close()


if __name__ == "__main__":
    main()
