#include "directory/schema.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

#include "core/dn.h"
#include "core/strings.h"

namespace cm {

namespace {

bool InList(std::string_view attr, std::initializer_list<std::string_view> list) {
  for (auto a : list) {
    if (IEquals(a, attr)) return true;
  }
  return false;
}

}  // namespace

Syntax SyntaxOf(std::string_view a) {
  if (InList(a, {"objectGUID", "msExchMailboxGuid", "objectSid", "msExchArchiveGUID",
                 "msExchMailboxSecurityDescriptor", "nTSecurityDescriptor", "jpegPhoto",
                 "thumbnailPhoto", "userCertificate", "msExchSafeSendersHash",
                 "msExchBlockedSendersHash", "sIDHistory"})) {
    return Syntax::kBinary;
  }
  if (InList(a, {"msExchRecipientTypeDetails", "msExchRecipientDisplayType", "userAccountControl",
                 "msExchVersion", "msExchUserAccountControl", "msExchELCMailboxFlags", "uidNumber",
                 "gidNumber", "msExchDumpsterQuota", "msExchDumpsterWarningQuota",
                 "msExchResourceCapacity"})) {
    return Syntax::kInteger;
  }
  if (InList(a, {"homeMDB", "homeMTA", "manager", "member", "memberOf", "showInAddressBook",
                 "seeAlso", "msExchMailboxTemplateLink", "msExchRBACPolicyLink",
                 "msExchArchiveDatabaseLink", "directReports", "msExchPoliciesIncluded"})) {
    return Syntax::kDn;
  }
  return Syntax::kString;
}

bool IsSingleValued(std::string_view a) {
  return InList(a, {"cn",
                    "sn",
                    "givenName",
                    "initials",
                    "displayName",
                    "mail",
                    "mailNickname",
                    "legacyExchangeDN",
                    "targetAddress",
                    "msExchMailboxGuid",
                    "homeMDB",
                    "homeMTA",
                    "msExchHomeServerName",
                    "msExchRecipientTypeDetails",
                    "msExchRecipientDisplayType",
                    "sAMAccountName",
                    "userAccountControl",
                    "objectGUID",
                    "msExchVersion",
                    "userPrincipalName",
                    "title",
                    "department",
                    "company",
                    "physicalDeliveryOfficeName",
                    "co",
                    "c",
                    "l",
                    "st",
                    "postalCode",
                    "streetAddress",
                    "textEncodedORAddress",
                    "msExchArchiveGUID",
                    "mobile",
                    "facsimileTelephoneNumber",
                    "telephoneNumber",
                    "msExchUserAccountControl",
                    "msExchResourceCapacity",
                    "msExchResourceDisplay"});
}

namespace {
bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace

bool ValuesEqual(std::string_view attr, std::string_view a, std::string_view b) {
  switch (SyntaxOf(attr)) {
    case Syntax::kBinary:
      return a == b;
    case Syntax::kDn:
      return DnEquals(a, b);
    case Syntax::kInteger: {
      int64_t x, y;
      if (ParseInt(a, &x) && ParseInt(b, &y)) return x == y;
      return a == b;
    }
    case Syntax::kString:
      return TextEquals(a, b);  // caseIgnoreMatch
  }
  return false;
}

int CompareValues(std::string_view attr, std::string_view a, std::string_view b) {
  if (SyntaxOf(attr) == Syntax::kInteger) {
    int64_t x, y;
    if (ParseInt(a, &x) && ParseInt(b, &y)) return x < y ? -1 : (x > y ? 1 : 0);
  }
  return FoldCase(a).compare(FoldCase(b));
}

std::vector<std::string> RequiredAttributes(std::string_view cls) {
  if (IEquals(cls, "organizationalUnit")) return {"ou"};
  if (IEquals(cls, "organization")) return {"o"};
  if (IEquals(cls, "domain") || IEquals(cls, "dcObject")) return {"dc"};
  if (IEquals(cls, "inetOrgPerson")) return {"cn", "sn"};
  if (InList(cls, {"user", "contact", "person", "organizationalPerson", "container", "group"}))
    return {"cn"};
  return {};
}

bool IsActiveDirectoryManaged(std::string_view a) {
  return InList(a, {"objectGUID",
                    "objectSid",
                    "whenCreated",
                    "whenChanged",
                    "uSNCreated",
                    "uSNChanged",
                    "dSCorePropagationData",
                    "instanceType",
                    "name",
                    "distinguishedName",
                    "sAMAccountType",
                    "badPwdCount",
                    "badPasswordTime",
                    "lastLogon",
                    "lastLogoff",
                    "lastLogonTimestamp",
                    "logonCount",
                    "memberOf",
                    "pwdLastSet",
                    "primaryGroupID",
                    "objectCategory",
                    "isCriticalSystemObject",
                    "replPropertyMetaData",
                    "msDS-KeyVersionNumber",
                    "codePage",
                    "countryCode",
                    "accountExpires"});
}

std::string GuidToString(std::string_view b) {
  if (b.size() != 16) return "";
  auto u = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(b[i])); };
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}{:02x}",
      u(3), u(2), u(1), u(0), u(5), u(4), u(7), u(6), u(8), u(9), u(10), u(11), u(12), u(13), u(14),
      u(15));
}

std::string GuidFromString(std::string_view text) {
  std::string_view t = Trim(text);
  if (t.size() == 38 && t.front() == '{' && t.back() == '}') t = t.substr(1, 36);
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return "";
  std::string hex;
  for (char c : t) {
    if (c == '-') continue;
    if (!isxdigit(static_cast<unsigned char>(c))) return "";
    hex += c;
  }
  auto byte = [&](size_t i) {
    return static_cast<char>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
  };
  static const size_t kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out(16, '\0');
  for (size_t i = 0; i < 16; ++i) out[kOrder[i]] = byte(i);
  return out;
}

}  // namespace cm
