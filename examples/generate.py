#!/usr/bin/env python3
"""Writes the shipped example organizations: Fabrikam (source) and Contoso (target).

Deterministic; rerun after editing the tables below. Output: source.ldif, target.ldif,
users.csv (as Windows PowerShell `Get-Mailbox | Export-Csv -Encoding UTF8` writes it:
#TYPE line, UTF-8 BOM, CRLF, every field quoted) and crossmove.toml.
"""
import base64
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_BASE = "DC=fabrikam,DC=test"
TGT_BASE = "DC=contoso,DC=test"
ADMIN_GROUP = "Exchange Administrative Group (FYDIBOHF23SPDLT)"
SRC_DB = f"CN=Mailbox Database 01,OU=Exchange,{SRC_BASE}"
TGT_DB = f"CN=DB-Contoso-01,OU=Exchange,{TGT_BASE}"

# (cn, given, surname, display, alias, sam, extra smtp, extra proxies, title, department)
PEOPLE = [
    ("Alice Adams", "Alice", "Adams", "Alice Adams", "alice.adams", "aadams",
     ["alice@fabrikam.test", "aadams@fabrikam-legacy.test"],
     ["X500:/o=Northwind/ou=First Administrative Group/cn=Recipients/cn=aadams",
      "X400:c=US;a= ;p=Fabrikam;o=Exchange;s=Adams;g=Alice;"], "Director", "Finance"),
    ("Smith, John", "John", "Smith", "Smith, John", "john.smith", "jsmith",
     ["jsmith@fabrikam-legacy.test"], [], "Accountant", "Finance"),
    ('Robert "Bob" O\'Neil', "Robert", "O'Neil", 'Robert "Bob" O\'Neil', "robert.oneil", "roneil",
     ["bob@fabrikam.test"], [], "Engineer", "R&D"),
    ("Zoë Ångström", "Zoë", "Ångström", "Zoë Ångström", "zoe.angstrom", "zangstrom",
     ["zoe@fabrikam.test"], [], "Physicist", "R&D"),
    ("José Muñoz", "José", "Muñoz", "José Muñoz", "jose.munoz", "jmunoz", [], [], "Sales Lead", "Sales"),
    ("Łukasz Żółkiewski", "Łukasz", "Żółkiewski", "Łukasz Żółkiewski", "lukasz.zolkiewski", "lzolkiewski",
     [], [], "Developer", "IT"),
    ("Søren Kierkegaard", "Søren", "Kierkegaard", "Søren Kierkegaard", "soren.kierkegaard", "skierkegaard",
     ["soren@fabrikam-legacy.test"], [], "Philosopher", "Strategy"),
    ("Yamada Taro", "太郎", "山田", "山田 太郎", "taro.yamada", "tyamada", [], [], "Manager", "Tokyo Office"),
    ("Müller, Jürgen", "Jürgen", "Müller", "Müller, Jürgen", "juergen.mueller", "jmueller",
     ["j.mueller@fabrikam.test"], [], "Controller", "Finance"),
    ("O'Brien, Siobhán", "Siobhán", "O'Brien", "O'Brien, Siobhán", "siobhan.obrien", "sobrien", [], [],
     "Counsel", "Legal"),
    ("François-Xavier Dubois", "François-Xavier", "Dubois", "François-Xavier Dubois", "fx.dubois", "fxdubois",
     ["francois-xavier.dubois@fabrikam.test"], [], "Architect", "IT"),
    ("Björk Guðmundsdóttir", "Björk", "Guðmundsdóttir", "Björk Guðmundsdóttir", "bjork.g", "bgudmundsdottir",
     [], [], "Designer", "Marketing"),
    ("Taylor, Chris", "Chris", "Taylor", "Taylor, Chris", "chris.taylor", "ctaylor", [], [], "Analyst", "Sales"),
    ("Nguyễn Văn An", "An", "Nguyễn", "Nguyễn Văn An", "an.nguyen", "anguyen", [], [], "Support", "IT"),
    ("Anna-Lena Weiß", "Anna-Lena", "Weiß", "Anna-Lena Weiß", "annalena.weiss", "aweiss",
     ["al.weiss@fabrikam-legacy.test"], [], "Recruiter", "HR"),
    ("Ahmed Al-Farsi", "Ahmed", "Al-Farsi", "Ahmed Al-Farsi", "ahmed.alfarsi", "aalfarsi", [], [],
     "Buyer", "Procurement"),
    ("Chloé Lefèvre", "Chloé", "Lefèvre", "Chloé Lefèvre", "chloe.lefevre", "clefevre", [], [], "Editor",
     "Marketing"),
    ("Dr. Priya Natarajan", "Priya", "Natarajan", "Dr. Priya Natarajan", "priya.natarajan", "pnatarajan",
     ["dr.natarajan@fabrikam.test"], ["X500:/o=Fabrikam/ou=Old Group/cn=Recipients/cn=pnatarajan"],
     "Chief Scientist", "R&D"),
    ("Ødegaard, Mats", "Mats", "Ødegaard", "Ødegaard, Mats", "mats.odegaard", "modegaard", [], [], "Trader",
     "Treasury"),
    ("Kim Min-jun", "Min-jun", "Kim", "Kim Min-jun", "minjun.kim", "mkim", [], [], "Engineer", "R&D"),
    ("Elena Popescu", "Elena", "Popescu", "Elena Popescu", "elena.popescu", "epopescu", [], [], "Auditor",
     "Finance"),
    ("Ñuño Ibáñez", "Ñuño", "Ibáñez", "Ñuño Ibáñez", "nuno.ibanez", "nibanez", ["n.ibanez@fabrikam-legacy.test"],
     [], "Technician", "Facilities"),
]

SRC_ORG = "Fabrikam"
TGT_ORG = "Contoso"


def guid(seed):
    return hashlib.md5(seed.encode()).digest()


def dn_escape(value):
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;=' or (i == 0 and ch in '# ') or (i == len(value) - 1 and ch == ' '):
            out.append('\\' + ch)
        else:
            out.append(ch)
    return ''.join(out)


def ldif_line(attr, value):
    if isinstance(value, bytes):
        return f"{attr}:: {base64.b64encode(value).decode()}"
    safe = value and value[0] not in ' :<' and value[-1] != ' ' and all(32 <= ord(c) < 127 for c in value)
    if safe:
        return f"{attr}: {value}"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}"


def entry(dn, attrs):
    lines = [ldif_line("dn", dn)]
    for attr, values in attrs:
        for v in values if isinstance(values, list) else [values]:
            lines.append(ldif_line(attr, v))
    return "\n".join(lines) + "\n\n"


def legacy(org, alias):
    return f"/o={org}/ou={ADMIN_GROUP}/cn=Recipients/cn={alias}"


def source_ldif():
    out = ["# Fabrikam: the source organization of the crossmove examples (generated by generate.py)\n",
           "version: 1\n\n"]
    out.append(entry(SRC_BASE, [("objectClass", ["top", "domain"]), ("dc", "fabrikam")]))
    for ou in ["People", "Contacts", "Service Accounts", "Exchange"]:
        out.append(entry(f"OU={ou},{SRC_BASE}", [("objectClass", ["top", "organizationalUnit"]), ("ou", ou)]))
    out.append(entry(SRC_DB, [("objectClass", ["top", "msExchPrivateMDB"]), ("cn", "Mailbox Database 01")]))
    for (cn, given, sn, display, alias, sam, extra_smtp, extra, title, dept) in PEOPLE:
        primary = f"{alias}@fabrikam.test"
        proxies = [f"SMTP:{primary}"] + [f"smtp:{a}" for a in extra_smtp] + extra
        out.append(entry(f"CN={dn_escape(cn)},OU=People,{SRC_BASE}", [
            ("objectClass", ["top", "person", "organizationalPerson", "user"]),
            ("cn", cn), ("sn", sn), ("givenName", given), ("displayName", display),
            ("title", title), ("department", dept), ("company", "Fabrikam Ltd"),
            ("telephoneNumber", f"+1 425 555 {abs(hash_int(alias)) % 9000 + 1000}"),
            ("sAMAccountName", sam), ("userPrincipalName", f"{sam}@fabrikam.test"),
            ("userAccountControl", "512"), ("mailNickname", alias), ("mail", primary),
            ("proxyAddresses", proxies), ("legacyExchangeDN", legacy(SRC_ORG, alias)),
            ("homeMDB", SRC_DB), ("msExchHomeServerName",
                                  f"/o={SRC_ORG}/ou={ADMIN_GROUP}/cn=Configuration/cn=Servers/cn=FAB-EX01"),
            ("msExchMailboxGuid", guid("mbx-" + alias)), ("objectGUID", guid("obj-" + alias)),
            ("msExchRecipientTypeDetails", "1"), ("msExchRecipientDisplayType", "1073741824"),
            ("showInAddressBook", f"CN=Default Global Address List,OU=Exchange,{SRC_BASE}"),
        ]))
    # Not mailboxes: a shared mailbox not in the CSV, a service account and an external contact.
    out.append(entry(f"CN=Help Desk,OU=People,{SRC_BASE}", [
        ("objectClass", ["top", "person", "organizationalPerson", "user"]), ("cn", "Help Desk"),
        ("displayName", "Help Desk"), ("sAMAccountName", "helpdesk"), ("userAccountControl", "514"),
        ("mailNickname", "helpdesk"), ("mail", "helpdesk@fabrikam.test"),
        ("proxyAddresses", ["SMTP:helpdesk@fabrikam.test"]), ("legacyExchangeDN", legacy(SRC_ORG, "helpdesk")),
        ("homeMDB", SRC_DB), ("msExchMailboxGuid", guid("mbx-helpdesk")), ("msExchRecipientTypeDetails", "4"),
        ("msExchRecipientDisplayType", "0")]))
    out.append(entry(f"CN=svc-backup,OU=Service Accounts,{SRC_BASE}", [
        ("objectClass", ["top", "person", "organizationalPerson", "user"]), ("cn", "svc-backup"),
        ("sAMAccountName", "svc-backup"), ("userAccountControl", "512")]))
    out.append(entry(f"CN=Carol Partner,OU=Contacts,{SRC_BASE}", [
        ("objectClass", ["top", "person", "organizationalPerson", "contact"]), ("cn", "Carol Partner"),
        ("displayName", "Carol Partner (Litware)"), ("mailNickname", "carol.partner"),
        ("mail", "carol@litware.example"), ("targetAddress", "SMTP:carol@litware.example"),
        ("proxyAddresses", ["SMTP:carol@litware.example"]), ("legacyExchangeDN", legacy(SRC_ORG, "carol.partner")),
        ("msExchRecipientTypeDetails", "64"), ("msExchRecipientDisplayType", "6")]))
    return "".join(out)


def hash_int(s):
    return int(hashlib.sha1(s.encode()).hexdigest()[:8], 16)


def target_ldif():
    out = ["# Contoso: the target organization of the crossmove examples (generated by generate.py)\n",
           "version: 1\n\n"]
    out.append(entry(TGT_BASE, [("objectClass", ["top", "domain"]), ("dc", "contoso")]))
    for ou in ["Staff", "Migrated Users", "GAL Contacts", "Exchange"]:
        out.append(entry(f"OU={ou},{TGT_BASE}", [("objectClass", ["top", "organizationalUnit"]), ("ou", ou)]))
    out.append(entry(TGT_DB, [("objectClass", ["top", "msExchPrivateMDB"]), ("cn", "DB-Contoso-01")]))
    # Contoso's own people. Their names collide with Fabrikam's on purpose: jsmith, Taylor, Chris.
    for (cn, given, sn, alias, sam) in [("John Smith", "John", "Smith", "jsmith", "josmith"),
                                       ("Grace Hopper", "Grace", "Hopper", "grace.hopper", "ghopper")]:
        out.append(entry(f"CN={dn_escape(cn)},OU=Staff,{TGT_BASE}", [
            ("objectClass", ["top", "person", "organizationalPerson", "user"]), ("cn", cn), ("sn", sn),
            ("givenName", given), ("displayName", cn), ("sAMAccountName", sam), ("userAccountControl", "512"),
            ("mailNickname", alias), ("mail", f"{alias}@contoso.test"), ("proxyAddresses", [f"SMTP:{alias}@contoso.test"]),
            ("legacyExchangeDN", legacy(TGT_ORG, alias)), ("homeMDB", TGT_DB),
            ("msExchMailboxGuid", guid("tgt-" + alias)), ("msExchRecipientTypeDetails", "1"),
            ("msExchRecipientDisplayType", "1073741824")]))
    out.append(entry(f"CN=Taylor\\, Chris,OU=Migrated Users,{TGT_BASE}", [
        ("objectClass", ["top", "person", "organizationalPerson", "user"]), ("cn", "Taylor, Chris"),
        ("sAMAccountName", "ctaylor.old"), ("userAccountControl", "514"),
        ("description", "placeholder left by an earlier pilot")]))
    # GAL sync made this contact for Alice before the move: the mailbox replaces it.
    out.append(entry(f"CN=Alice Adams (Fabrikam),OU=GAL Contacts,{TGT_BASE}", [
        ("objectClass", ["top", "person", "organizationalPerson", "contact"]), ("cn", "Alice Adams (Fabrikam)"),
        ("displayName", "Alice Adams (Fabrikam)"), ("mailNickname", "alice.adams.fabrikam"),
        ("mail", "alice.adams@fabrikam.test"), ("targetAddress", "SMTP:alice.adams@fabrikam.test"),
        ("proxyAddresses", ["SMTP:alice.adams@fabrikam.test", "smtp:alice.adams.fabrikam@contoso.test"]),
        ("legacyExchangeDN", legacy(TGT_ORG, "alice.adams.fabrikam")),
        ("msExchRecipientTypeDetails", "64"), ("msExchRecipientDisplayType", "6")]))
    return "".join(out)


def users_csv():
    cols = ["RunspaceId", "Database", "Name", "Alias", "DisplayName", "PrimarySmtpAddress", "SamAccountName",
            "UserPrincipalName", "EmailAddresses", "ExchangeGuid", "CustomAttribute1", "Identity",
            "DistinguishedName"]
    rows = ['#TYPE Microsoft.Exchange.Data.Directory.Management.Mailbox',
            ",".join(f'"{c}"' for c in cols)]
    for i, (cn, given, sn, display, alias, sam, *_rest) in enumerate(PEOPLE):
        g = guid("mbx-" + alias)
        ex_guid = "-".join([g[3::-1].hex(), g[5:3:-1].hex(), g[7:5:-1].hex(), g[8:10].hex(), g[10:].hex()])
        note = "Moved with\nthe finance team" if alias == "john.smith" else ""
        values = ["6b1c1f0e-0d4f-4b8e-9a7c-7f2f1d2c3b4a", "Mailbox Database 01", cn, alias, display,
                  f"{alias}@fabrikam.test", sam, f"{sam}@fabrikam.test",
                  "Microsoft.Exchange.Data.ProxyAddressCollection", ex_guid, note,
                  f"fabrikam.test/People/{cn}", f"CN={dn_escape(cn)},OU=People,{SRC_BASE}"]
        rows.append(",".join('"' + v.replace('"', '""') + '"' for v in values))
    return "\ufeff" + "\r\n".join(rows) + "\r\n"


CONFIG = """# crossmove example: move Fabrikam's mailboxes to Contoso and leave forwarding contacts behind.
# Paths are relative to this file. Try: crossmove --config examples/crossmove.toml plan
users-file = "users.csv"
cleanup = "CreateSourceContact"
target-smtp-domain = "contoso.test"
nt-account-ou = "OU=Migrated Users,DC=contoso,DC=test"
contacts-ou = "OU=Contacts,DC=fabrikam,DC=test"
target-database = "DB-Contoso-01"

[source]
gc = "ldif:source.ldif"
domains = ["fabrikam.test", "fabrikam-legacy.test"]
org-name = "Fabrikam"

[target]
gc = "ldif:target.ldif"
domains = ["contoso.test"]
org-name = "Contoso"

[target.databases.DB-Contoso-01]
dn = "CN=DB-Contoso-01,OU=Exchange,DC=contoso,DC=test"
"""

if __name__ == "__main__":
    for name, text in [("source.ldif", source_ldif()), ("target.ldif", target_ldif()),
                       ("crossmove.toml", CONFIG)]:
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    with open(os.path.join(HERE, "users.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(users_csv())
