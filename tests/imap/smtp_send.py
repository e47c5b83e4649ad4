#!/usr/bin/env python3
"""Sends one message to each ADDRESS over SMTP, as any sender would, and prints what the server
answered: "N<TAB>address<TAB>code" (250, or the code of the refusal). Message N has the
Message-ID <TAG-N@crossmove.test>.

    smtp_send.py HOST:PORT TAG ADDRESS...
"""
import smtplib
import sys


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    tag = sys.argv[2]
    smtp = smtplib.SMTP(host, int(port), timeout=30)
    for n, rcpt in enumerate(sys.argv[3:]):
        body = (f"From: sender@elsewhere.test\r\nTo: {rcpt}\r\nSubject: {tag} {n}\r\n"
                f"Message-ID: <{tag}-{n}@crossmove.test>\r\n\r\nto {rcpt}\r\n")
        try:
            refused = smtp.sendmail("sender@elsewhere.test", [rcpt], body)
            code = 250 if not refused else refused[rcpt][0]
        except smtplib.SMTPRecipientsRefused as e:
            code = e.recipients[rcpt][0]
            smtp.rset()
        print(f"{n}\t{rcpt}\t{code}", flush=True)
    smtp.quit()


if __name__ == "__main__":
    main()
