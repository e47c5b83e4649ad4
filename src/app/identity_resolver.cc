#include "app/identity_resolver.h"

#include <fmt/format.h>

#include <optional>

#include "core/dn.h"
#include "core/proxy_address.h"
#include "core/strings.h"
#include "directory/schema.h"

namespace cm {

namespace {

bool LooksLikeDn(std::string_view s) {
  auto parsed = ParseDn(s);
  return parsed.ok() && parsed->size() >= 2 && s.find('=') != std::string_view::npos;
}

Filter AnyOf(std::vector<Filter> parts) {
  return parts.size() == 1 ? std::move(parts.front()) : Filter::Or(std::move(parts));
}

// An Identity that reads as a canonical name (fabrikam.test/People/Smith, John): its parts.
// Tried before a DN, since a canonical name's first part is a DNS domain, which no DN starts
// with; an SMTP address or DOMAIN\\sam has no `/` after a dotted first part.
std::optional<std::vector<std::string>> AsCanonicalName(std::string_view id) {
  auto parts = ParseCanonicalName(id);
  if (!parts.ok()) return std::nullopt;
  return std::move(*parts);
}

Filter SmtpFilter(std::string_view address, const AttributeProfile& p) {
  return AnyOf({Filter::Eq(p.proxy_addresses, "smtp:" + std::string(address)),
                Filter::Eq(p.mail, std::string(address))});
}

}  // namespace

Result<Filter> IdentityFilter(std::string_view column, std::string_view identity,
                              const AttributeProfile& p) {
  std::string id(identity);
  if (IEquals(column, "DistinguishedName")) {
    if (!LooksLikeDn(id))
      return Status::InvalidInput(fmt::format("'{}' is not a distinguished name", id));
    return Filter::Present("objectClass");  // the DN itself is the base of a base search
  }
  if (IEquals(column, "PrimarySmtpAddress")) return SmtpFilter(id, p);
  if (IEquals(column, "UserPrincipalName")) return Filter::Eq(p.user_principal_name, id);
  if (IEquals(column, "SamAccountName")) {
    size_t slash = id.find('\\');
    return Filter::Eq(p.sam_account_name, slash == std::string::npos ? id : id.substr(slash + 1));
  }
  if (IEquals(column, "Alias")) return Filter::Eq(p.mail_nickname, id);
  if (IEquals(column, "ExchangeGuid")) {
    std::string bytes = GuidFromString(id);
    if (bytes.empty()) return Status::InvalidInput(fmt::format("'{}' is not a GUID", id));
    return Filter::Eq(p.mailbox_guid, bytes);
  }
  // Identity: what Exchange's -Identity accepts.
  if (auto parts = AsCanonicalName(id)) {
    // Canonical name: search by the name (its RDN value), then compare the whole path.
    return Filter::Eq(p.cn, parts->back());
  }
  if (std::string bytes = GuidFromString(id); !bytes.empty()) {
    return AnyOf({Filter::Eq(p.mailbox_guid, bytes), Filter::Eq(p.object_guid, bytes)});
  }
  if (id.find('@') != std::string::npos && id.find('/') == std::string::npos) {
    return AnyOf({Filter::Eq(p.proxy_addresses, "smtp:" + id), Filter::Eq(p.mail, id),
                  Filter::Eq(p.user_principal_name, id)});
  }
  if (size_t bs = id.find('\\'); bs != std::string::npos && !LooksLikeDn(id)) {
    return Filter::Eq(p.sam_account_name, id.substr(bs + 1));
  }
  return AnyOf({Filter::Eq(p.sam_account_name, id), Filter::Eq(p.mail_nickname, id),
                Filter::Eq(p.cn, id), Filter::Eq(p.display_name, id)});
}

Result<std::vector<Entry>> ResolveIdentity(Directory& dir, std::string_view base,
                                           std::string_view column, std::string_view identity,
                                           const AttributeProfile& profile) {
  std::string id(identity);
  auto canonical = IEquals(column, "Identity") ? AsCanonicalName(id) : std::nullopt;
  bool by_dn = IEquals(column, "DistinguishedName") ||
               (IEquals(column, "Identity") && !canonical && LooksLikeDn(id));
  if (by_dn) {
    if (!LooksLikeDn(id))
      return Status::InvalidInput(fmt::format("'{}' is not a distinguished name", id));
    auto entry = dir.Read(id);
    if (!entry.ok()) {
      if (entry.status().code() == Status::Code::kNotFound) return std::vector<Entry>{};
      return entry.status();
    }
    return std::vector<Entry>{std::move(*entry)};
  }
  auto filter = IdentityFilter(column, id, profile);
  if (!filter.ok()) return filter.status();
  auto found = dir.Search(base, Scope::kSubtree, *filter);
  if (!found.ok()) return found.status();
  if (canonical) {
    std::erase_if(*found, [&](const Entry& e) { return !CanonicalNameIs(e.dn(), *canonical); });
  }
  return found;
}

std::string IdentityReading(std::string_view column, std::string_view identity) {
  if (!IEquals(column, "Identity")) return "";
  if (auto parts = AsCanonicalName(identity)) {
    std::vector<std::string> path(parts->begin(), parts->end() - 1);
    return fmt::format("read as the canonical name of '{}' in {}", parts->back(), Join(path, "/"));
  }
  if (LooksLikeDn(identity)) return "read as a distinguished name";
  return "";
}

namespace {

// Whether `typed` names this journaled mailbox, in any of the forms SelectJournaled lists.
bool NamesMailbox(std::string_view typed, const JournaledIdentity& m, const AttributeProfile& p) {
  size_t eq = m.key.find('=');
  if (TextEquals(m.key, typed) ||
      (eq != std::string::npos && TextEquals(m.key.substr(eq + 1), typed)))
    return true;
  for (const std::string* dn : {&m.source_dn, &m.target_dn}) {
    if (dn->empty()) continue;
    if (auto parts = AsCanonicalName(typed)) {
      if (CanonicalNameIs(*dn, *parts)) return true;
    } else if (LooksLikeDn(typed) && DnEquals(*dn, typed)) {
      return true;
    }
  }
  std::string_view bare = typed;
  if (IStartsWith(bare, "smtp:") || IStartsWith(bare, "x500:")) bare.remove_prefix(5);
  if (!m.target_primary_smtp.empty() && TextEquals(m.target_primary_smtp, bare)) return true;
  if (!m.target_legacy_dn.empty() && TextEquals(m.target_legacy_dn, bare)) return true;
  if (!m.source) return false;
  const Entry& e = *m.source;
  for (const auto& v : e.Get(p.proxy_addresses)) {
    auto proxy = ProxyAddress::Parse(v);
    if (proxy.ok() && (proxy->IsSmtp() || proxy->IsX500()) && TextEquals(proxy->address(), bare))
      return true;
  }
  std::string_view account = typed;
  if (size_t bs = account.find('\\'); bs != std::string_view::npos && !LooksLikeDn(typed))
    account.remove_prefix(bs + 1);
  for (const auto& [attr, value] :
       std::vector<std::pair<const std::string*, std::string_view>>{{&p.mail, typed},
                                                                    {&p.user_principal_name, typed},
                                                                    {&p.legacy_dn, bare},
                                                                    {&p.mail_nickname, typed},
                                                                    {&p.sam_account_name, account},
                                                                    {&p.cn, typed},
                                                                    {&p.display_name, typed}}) {
    for (const auto& v : e.Get(*attr)) {
      if (TextEquals(v, value)) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::vector<size_t>> SelectJournaled(const std::vector<std::string>& typed,
                                            const std::vector<JournaledIdentity>& mailboxes,
                                            const AttributeProfile& profile) {
  std::vector<bool> chosen(mailboxes.size(), false);
  std::vector<std::string> problems;
  for (const auto& raw : typed) {
    // Pasted from a report or a mail, an identity often carries spaces around it.
    std::string_view id = Trim(raw);
    std::vector<size_t> found;
    for (size_t i = 0; i < mailboxes.size(); ++i) {
      if (NamesMailbox(id, mailboxes[i], profile)) found.push_back(i);
    }
    std::string shown = EscapeControlCharacters(raw);
    if (found.empty()) {
      problems.push_back(fmt::format(
          "'{}' matches no mailbox in the journal (tried: SMTP address (primary or proxy, mail, "
          "UPN), alias, sAMAccountName (also DOMAIN\\name), legacyExchangeDN or "
          "X500:address, cn or display name, DN or canonical name of the source or target "
          "object, users-file value)",
          shown));
    } else if (found.size() > 1) {
      std::vector<std::string> names;
      for (size_t i : found) names.push_back(EscapeControlCharacters(mailboxes[i].key));
      problems.push_back(
          fmt::format("'{}' matches {} mailboxes in the journal: {}; name one by its users-file "
                      "value or DN",
                      shown, found.size(), Join(names, ", ")));
    } else {
      chosen[found.front()] = true;
    }
  }
  if (!problems.empty()) return Status::InvalidInput(Join(problems, "\n"));
  std::vector<size_t> out;
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (chosen[i]) out.push_back(i);
  }
  return out;
}

}  // namespace cm
