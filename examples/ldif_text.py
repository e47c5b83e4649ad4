"""LDIF and DN text helpers shared by the example generators (RFC 2849 / RFC 4514)."""
import base64


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
    return f"{attr}: {value}" if safe else f"{attr}:: {base64.b64encode(value.encode()).decode()}"


def entry(dn, attrs):
    lines = [ldif_line("dn", dn)]
    for attr, values in attrs:
        for v in values if isinstance(values, list) else [values]:
            lines.append(ldif_line(attr, v))
    return "\n".join(lines) + "\n\n"
