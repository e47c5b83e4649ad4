#!/usr/bin/env python3
"""Generates a source organization with mail, and an empty target, for `crossmove run`.

    generate_org.py OUTDIR [--mailboxes 60] [--messages 6000] [--seed 1]

Deterministic for a given seed. Writes OUTDIR/source.ldif, target.ldif, users.csv (as
PowerShell's Export-Csv does), crossmove.toml, and OUTDIR/source-mail/<domain>/<user>/: Maildir++
trees laid out as Dovecot does (folders `.A.B` in modified UTF-7, `:2,` flags, keyword letters
with `dovecot-keywords`, mtime = INTERNALDATE, version-2 `subscriptions`). Folders are nested and
some names are non-ASCII or hold '&'; about 5% of messages carry an attachment.
"""
import argparse
import base64
import email.utils
import hashlib
import os
import random
import unicodedata

from ldif_text import dn_escape, entry

SRC_BASE = "DC=fabrikam,DC=test"
TGT_BASE = "DC=contoso,DC=test"
ADMIN_GROUP = "Exchange Administrative Group (FYDIBOHF23SPDLT)"
SRC_DB = f"CN=Mailbox Database 01,OU=Exchange,{SRC_BASE}"
TGT_DB = f"CN=DB-Contoso-01,OU=Exchange,{TGT_BASE}"
GIVEN = ["Alice", "Bob", "Zoë", "José", "Łukasz", "Søren", "Chloé", "Ahmed", "Priya", "Mats", "Elena", "Ñuño",
         "Björk", "Siobhán", "Jürgen", "Anna-Lena", "Min-jun", "François", "Grace", "Olu"]
SURNAME = ["Adams", "Smith", "Ångström", "Muñoz", "Żółkiewski", "Kierkegaard", "Lefèvre", "Al-Farsi",
           "Natarajan", "Ødegaard", "Popescu", "Ibáñez", "Weiß", "O'Brien", "Müller", "Kim", "Dubois", "Hopper"]
# (path components, share of the messages, special use by name)
FOLDERS = [(["INBOX"], 40), (["Sent Items"], 20), (["Archive", "2023"], 10), (["Archive", "2024", "Q1"], 8),
           (["Projets", "Été 2024"], 8), (["Kunden & Partner"], 6), (["Drafts"], 3), (["Deleted Items"], 5)]
KEYWORDS = ["$Forwarded", "$Label1", "Important", "$Junk"]
# The benchmark corpus of ../shared/lab (gen_messages.py): 40% INBOX, 20% each of Sent, Archive/2023
# and Projects/Alpha; text bodies of 5-120 lines, 5% with a 20-60 KB attachment.
LAB_FOLDERS = [(["INBOX"], 40), (["Sent"], 20), (["Archive", "2023"], 20), (["Projects", "Alpha"], 20)]
LAB_WORDS = ("migration mailbox tenant exchange directory forest proxy address target source "
             "quarterly report meeting budget invoice schedule review draft final update").split()
def ascii_alias(text):
    # Letters that do not decompose, then accents dropped by NFKD.
    text = text.translate(str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "æ": "ae"}))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c == "-")).lower()


def mutf7(name):
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)








def people(n):
    seen, seen_cn, out = set(), set(), []
    for i in range(n):
        given, sn = GIVEN[i % len(GIVEN)], SURNAME[(i * 7) % len(SURNAME)]
        alias = f"{ascii_alias(given)}.{ascii_alias(sn)}"
        while alias in seen:
            alias += str(i)
        seen.add(alias)
        display = f"{sn}, {given}" if i % 5 == 1 else (f'{given} "{sn[0]}." {sn}' if i % 17 == 3 else f"{given} {sn}")
        cn = display if i % 9 != 8 else display + f" ({i})"
        if cn.lower() in seen_cn:  # names repeat past a few hundred people; DNs must not
            cn = display + f" ({i})"
        seen_cn.add(cn.lower())
        out.append({"i": i, "given": given, "sn": sn, "display": display, "cn": cn, "alias": alias,
                    "sam": alias.replace(".", "")[:17] + str(i)})
    return out


def message(rng, person, n, date):
    subject = rng.choice(["Quarterly report", "Réunion demain", "Lunch?", "Invoice 2023-114", "Überblick",
                          "Re: project plan", "Fwd: contract"])
    digest = hashlib.sha1(("%s-%d" % (person["alias"], n)).encode()).hexdigest()[:20]
    mid = f"<{digest}@fabrikam.test>"
    headers = [f"From: {person['alias']}@fabrikam.test", f"To: colleague{n % 13}@fabrikam.test",
               f"Subject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=",
               f"Date: {date}", f"Message-ID: {mid}", "MIME-Version: 1.0"]
    body = "\r\n".join(f"Line {k} of message {n} for {person['alias']}." for k in range(rng.randint(3, 40)))
    if rng.random() < 0.05:
        blob = rng.randbytes(rng.randint(20000, 60000))
        att = base64.encodebytes(blob).decode().replace("\n", "\r\n")
        headers.append('Content-Type: multipart/mixed; boundary="b1"')
        text = ("\r\n".join(headers) + "\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
                "\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
                "filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + att + "--b1--\r\n")
    else:
        headers.append("Content-Type: text/plain; charset=utf-8")
        text = "\r\n".join(headers) + "\r\n\r\n" + body + "\r\n"
    return text.encode()


def lab_message(rng, person, n, date):
    frm = f"user{rng.randrange(1000):04d}@fabrikam.test"
    subj = " ".join(rng.choice(LAB_WORDS) for _ in range(rng.randrange(3, 9)))
    body = [" ".join(rng.choice(LAB_WORDS) for _ in range(12)) for _ in range(rng.randrange(5, 120))]
    hdr = (f"From: Sender {n} <{frm}>\r\nTo: {person['alias']}@fabrikam.test\r\n"
           f"Subject: [{n:05d}] {subj}\r\nDate: {date}\r\n"
           f"Message-ID: <synthetic-{person['i']}-{n:06d}@fabrikam.test>\r\nMIME-Version: 1.0\r\n")
    if rng.random() < 0.05:
        att = base64.encodebytes(rng.randbytes(rng.randrange(15000, 45000))).replace(b"\n", b"\r\n").decode()
        b = f"b{n:06d}"
        text = (hdr + f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n'
                f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "\r\n".join(body) +
                f"\r\n--{b}\r\nContent-Type: application/octet-stream; name=\"f{n}.bin\"\r\n"
                f"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"f{n}.bin\"\r\n\r\n"
                + att + f"--{b}--\r\n")
    else:
        text = hdr + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + "\r\n".join(body) + "\r\n"
    return text.encode()


def write_mailbox(root, person, count, rng, folders=FOLDERS, make=message):
    weights = [w for _, w in folders]
    subscribed = []
    for path, _ in folders:
        d = root if path == ["INBOX"] else os.path.join(root, "." + ".".join(mutf7(c) for c in path))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        if path != ["INBOX"]:
            open(os.path.join(d, "maildirfolder"), "w").close()
        subscribed.append("\t".join(mutf7(c) for c in path))
        with open(os.path.join(d, "dovecot-keywords"), "w") as f:
            f.write("".join(f"{k} {kw}\n" for k, kw in enumerate(KEYWORDS)))
    with open(os.path.join(root, "subscriptions"), "w") as f:
        f.write("V\t2\n\n" + "".join(s + "\n" for s in subscribed))
    for n in range(count):
        path = rng.choices([p for p, _ in folders], weights)[0]
        d = root if path == ["INBOX"] else os.path.join(root, "." + ".".join(mutf7(c) for c in path))
        when = 1672531200 + rng.randrange(365 * 86400)
        date = email.utils.formatdate(when, localtime=False)
        data = make(rng, person, n, date)
        flags = ""
        if rng.random() < 0.05:
            flags += "F"
        if rng.random() < 0.2:
            flags += "R"
        if rng.random() < 0.7:
            flags += "S"
        letters = "".join(sorted(chr(ord("a") + k) for k in range(len(KEYWORDS)) if rng.random() < 0.08))
        name = f"{when}.M{n}P{person['i']}.gen,S={len(data)}:2,{flags}{letters}"
        sub = "new" if rng.random() < 0.1 and not flags else "cur"
        if sub == "new":
            name = name.split(":")[0]
        p = os.path.join(d, sub, name)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (when, when))


def mailbox_type(i):
    """The type attributes of mailbox i as Exchange writes them: a user mailbox, or (i = 1, 2, 3) a
    shared, room or equipment mailbox, whose account is disabled (userAccountControl 514,
    msExchUserAccountControl 2) and whose resources carry their booking attributes."""
    if i == 1:
        return [("msExchRecipientTypeDetails", "4"), ("msExchRecipientDisplayType", "0"),
                ("msExchUserAccountControl", "2")]
    if i == 2:
        return [("msExchRecipientTypeDetails", "16"), ("msExchRecipientDisplayType", "7"),
                ("msExchUserAccountControl", "2"), ("msExchResourceCapacity", "12"),
                ("msExchResourceDisplay", "Room"), ("msExchResourceMetaData", ["ResourceType:Room"]),
                ("msExchResourceSearchProperties", ["Room", "AudioVisual"])]
    if i == 3:
        return [("msExchRecipientTypeDetails", "32"), ("msExchRecipientDisplayType", "8"),
                ("msExchUserAccountControl", "2"), ("msExchResourceDisplay", "Equipment"),
                ("msExchResourceMetaData", ["ResourceType:Equipment"])]
    return [("msExchRecipientTypeDetails", "1"), ("msExchRecipientDisplayType", "1073741824")]


def main():
    ap = argparse.ArgumentParser(
        description="Generate a source organization with mail (LDIF directory, users file, Maildir "
                    "stores) and an empty target, ready for `crossmove --config OUTDIR/crossmove.toml run`.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("outdir", help="folder to write source.ldif, target.ldif, users.csv, crossmove.toml "
                                   "and source-mail/ into (created when missing)")
    ap.add_argument("--mailboxes", type=int, default=60, help="number of source mailboxes")
    ap.add_argument("--messages", type=int, default=6000,
                    help="number of messages in all, spread evenly over the mailboxes")
    ap.add_argument("--seed", type=int, default=1,
                    help="random seed: the same seed writes the same organization, byte for byte")
    ap.add_argument("--cleanup", default="CreateSourceContact",
                    metavar="OPTION",
                    help="the cleanup the generated crossmove.toml sets (-SourceMailboxCleanupOptions): None, "
                         "DeleteSourceMailbox, DeleteSourceNTAccount, CreateSourceContact or MailEnableSourceAccount")
    ap.add_argument("--inbox-only", action="store_true", help="mailboxes without other folders")
    ap.add_argument("--lab-corpus", action="store_true",
                    help="the benchmark corpus: 4 folders, larger text messages (../shared/lab)")
    ap.add_argument("--resource-mailboxes", action="store_true",
                    help="the 2nd, 3rd and 4th mailboxes are shared, room and equipment mailboxes")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    folk = people(a.mailboxes)
    src = ["version: 1\n\n", entry(SRC_BASE, [("objectClass", ["top", "domain"]), ("dc", "fabrikam")])]
    for ou in ["People", "Contacts", "Exchange"]:
        src.append(entry(f"OU={ou},{SRC_BASE}", [("objectClass", ["top", "organizationalUnit"]), ("ou", ou)]))
    src.append(entry(SRC_DB, [("objectClass", ["top", "msExchPrivateMDB"]), ("cn", "Mailbox Database 01")]))
    rows = ['#TYPE Microsoft.Exchange.Data.Directory.Management.Mailbox', '"Name","Alias","PrimarySmtpAddress"']
    per_box = [a.messages // a.mailboxes + (1 if k < a.messages % a.mailboxes else 0) for k in range(a.mailboxes)]
    for p, count in zip(folk, per_box):
        primary = f"{p['alias']}@fabrikam.test"
        proxies = [f"SMTP:{primary}", f"smtp:{p['sam']}@fabrikam-legacy.test"]
        if p["i"] % 4 == 0:
            proxies.append(f"X500:/o=Northwind/ou=First Administrative Group/cn=Recipients/cn={p['sam']}")
        if p["i"] % 6 == 0:
            proxies.append(f"X400:c=US;a= ;p=Fabrikam;o=Exchange;s={ascii_alias(p['sn'])};g={ascii_alias(p['given'])};")
        src.append(entry(f"CN={dn_escape(p['cn'])},OU=People,{SRC_BASE}", [
            ("objectClass", ["top", "person", "organizationalPerson", "user"]), ("cn", p["cn"]), ("sn", p["sn"]),
            ("givenName", p["given"]), ("displayName", p["display"]), ("department", ["Sales", "R&D", "IT"][p["i"] % 3]),
            ("sAMAccountName", p["sam"]),
            ("userAccountControl", "514" if a.resource_mailboxes and 1 <= p["i"] <= 3 else "512"), ("mailNickname", p["alias"]),
            ("mail", primary), ("proxyAddresses", proxies),
            ("legacyExchangeDN", f"/o=Fabrikam/ou={ADMIN_GROUP}/cn=Recipients/cn={p['alias']}"),
            ("homeMDB", SRC_DB), ("msExchMailboxGuid", hashlib.md5(p["alias"].encode()).digest()),
            *mailbox_type(p["i"] if a.resource_mailboxes else 0)]))
        rows.append(",".join('"' + v.replace('"', '""') + '"' for v in [p["cn"], p["alias"], primary]))
        folders = LAB_FOLDERS if a.lab_corpus else FOLDERS
        write_mailbox(os.path.join(a.outdir, "source-mail", "fabrikam.test", p["alias"]), p, count, rng,
                      folders[:1] if a.inbox_only else folders, lab_message if a.lab_corpus else message)
    tgt = ["version: 1\n\n", entry(TGT_BASE, [("objectClass", ["top", "domain"]), ("dc", "contoso")])]
    for ou in ["Migrated Users", "Exchange"]:
        tgt.append(entry(f"OU={ou},{TGT_BASE}", [("objectClass", ["top", "organizationalUnit"]), ("ou", ou)]))
    tgt.append(entry(TGT_DB, [("objectClass", ["top", "msExchPrivateMDB"]), ("cn", "DB-Contoso-01")]))
    files = {"source.ldif": "".join(src), "target.ldif": "".join(tgt), "users.csv": "\r\n".join(rows) + "\r\n",
             "crossmove.toml": CONFIG.format(cleanup=a.cleanup)}
    for name, text in files.items():
        with open(os.path.join(a.outdir, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)


CONFIG = """# Generated by generate_org.py: Fabrikam (source) moves to Contoso (target).
users-file = "users.csv"
cleanup = "{cleanup}"
target-smtp-domain = "contoso.test"
nt-account-ou = "OU=Migrated Users,DC=contoso,DC=test"
contacts-ou = "OU=Contacts,DC=fabrikam,DC=test"
target-database = "DB-Contoso-01"
journal = "crossmove.journal"
report = "crossmove-report"

[source]
gc = "ldif:source.ldif"
domains = ["fabrikam.test", "fabrikam-legacy.test"]

[source.databases.DB01]
dn = "CN=Mailbox Database 01,OU=Exchange,DC=fabrikam,DC=test"
store = "maildir:source-mail/%d/%n"

[target]
gc = "ldif:target.ldif"
domains = ["contoso.test"]
org-name = "Contoso"

[target.databases.DB-Contoso-01]
dn = "CN=DB-Contoso-01,OU=Exchange,DC=contoso,DC=test"
store = "maildir:target-mail/%d/%n"
"""

if __name__ == "__main__":
    main()
