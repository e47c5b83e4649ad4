// Small string helpers shared by every layer. ASCII-only case folding (AsciiLower, IEquals, ILess)
// for protocol names: LDAP attribute names, SMTP addresses and proxy prefixes, IMAP atoms. Text a
// person wrote (names, DNs' values) compares as a directory compares it: FoldCase / TextEquals,
// where we are the directory (the embedded `ldif:` one) or match what it holds (identities).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cm {

char AsciiLower(char c);
std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);
// UTF-8 text lowered code point by code point with Unicode's simple case mapping (glibc's tables,
// the C.UTF-8 locale: ZOË -> zoë, Ж -> ж), as caseIgnoreMatch compares; ASCII as AsciiLower;
// bytes that are not UTF-8 are kept as they are. Written by hand only around towlower_l: no
// library of ours folds UTF-8 strings (ICU would, for this one use).
std::string FoldCase(std::string_view s);
bool TextEquals(std::string_view a, std::string_view b);  // FoldCase(a) == FoldCase(b)
bool IStartsWith(std::string_view s, std::string_view prefix);
bool IEndsWith(std::string_view s, std::string_view suffix);
std::string_view Trim(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);

// "1 message", "2 messages", "3 mailboxes": a count and its noun, in the plural unless it is one.
// The plural is `plural` when given, else the noun with "es" after s, x, sh or ch, else "s".
std::string CountOf(size_t n, std::string_view noun, std::string_view plural = "");

// Levenshtein distance: insertions, deletions and substitutions of single bytes.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate a mistyped word most likely meant ("rnu" -> "run"): the nearest by EditDistance,
// when it is at most max(2, a quarter of the word's length) away; else the longest candidate (of
// 4 or more characters) the word begins with ("cleanupoptions" -> "cleanup"); "" when none fits.
// Compared as given: callers fold case or separators first where they do not count.
std::string NearestOf(std::string_view word, const std::vector<std::string>& candidates);

// Case-insensitive (ASCII) ordering for maps keyed by attribute names or addresses.
struct ILess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// Number of Unicode code points in valid UTF-8 (SPEC limits count characters, not bytes).
size_t Utf8Length(std::string_view s);
// Longest prefix of at most max_chars code points, never splitting a sequence.
std::string Utf8Prefix(std::string_view s, size_t max_chars);
// True when s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Appends the UTF-8 encoding of a code point.
void AppendUtf8(std::string& out, char32_t cp);

// Text from input (a users-file cell, an LDIF value, a server's answer) made safe to print in a
// message: control characters (C0, DEL, and C1 as UTF-8 U+0080..U+009F) become visible escapes
// (`\0`, `\t`, `\n`, `\r`, `\e`, `\x7f`, `\u009b`), so a value cannot move the cursor, recolour
// or clear the terminal, or forge a line of output; bytes that are not UTF-8 become `\xNN`.
// Everything else is kept.
std::string EscapeControlCharacters(std::string_view s);

// URL parts (RFC 3986): %XX escapes decoded; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);
// Every byte but the unreserved characters (ALPHA DIGIT - . _ ~) and those in `keep` as %XX.
std::string PercentEncode(std::string_view s, std::string_view keep = "");

}  // namespace cm
