#include "app/bounces.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/proxy_address.h"
#include "core/smtp.h"
#include "core/strings.h"

namespace cm {

std::vector<std::string> OldAddresses(const Entry& source, const AttributeProfile& p) {
  std::vector<std::string> out;
  // Addresses are matched without regard to case (RFC 5321 §2.4 in practice, Exchange's
  // proxy resolution for X500): an X500 proxy that repeats the legacyExchangeDN in another case
  // is one address, not two.
  std::set<std::string> seen;
  auto add = [&](std::string address) {
    if (seen.insert(AsciiLower(address)).second) out.push_back(std::move(address));
  };
  for (const auto& v : source.Get(p.proxy_addresses)) {
    auto proxy = ProxyAddress::Parse(v);
    if (!proxy.ok()) continue;
    if (proxy->IsSmtp()) add(proxy->address());
    if (proxy->IsX500()) add("X500:" + proxy->address());
  }
  std::string legacy = source.First(p.legacy_dn);
  if (!legacy.empty()) add("X500:" + legacy);
  return out;
}

AcceptedDomains DomainsOf(const Config& config, const std::vector<MailboxPlan>& plans) {
  return {config.source.domains, TargetDomains(config, plans)};
}

std::vector<std::string> TargetDomains(const Config& config,
                                       const std::vector<MailboxPlan>& plans) {
  if (!config.target.domains.empty()) return config.target.domains;
  std::set<std::string> domains;
  for (const auto& p : plans) domains.insert(DomainOf(p.target_primary_smtp));
  if (!config.target_smtp_domain.empty()) domains.insert(AsciiLower(config.target_smtp_domain));
  return {domains.begin(), domains.end()};
}

BouncingAddresses& BouncingAddresses::operator+=(const BouncingAddresses& other) {
  smtp += other.smtp;
  x500 += other.x500;
  return *this;
}

void to_json(nlohmann::json& out, const BouncingAddresses& addresses) {
  out = {{"smtp", addresses.smtp}, {"x500", addresses.x500}};
}

BouncingAddresses AddressesThatWillBounce(const Entry& source, const MailboxPlan& plan,
                                          const AcceptedDomains& domains,
                                          const AttributeProfile& profile) {
  BouncingAddresses n;
  if (plan.cleanup != CleanupOption::kDeleteSourceMailbox &&
      plan.cleanup != CleanupOption::kDeleteSourceNTAccount)
    return n;
  for (const auto& address : OldAddresses(source, profile)) {
    // An EX / X500 address is resolved in the organization it is sent from: the source's.
    if (address.starts_with("X500:")) {
      ++n.x500;
      continue;
    }
    auto accepts = [&](const std::vector<std::string>& list) {
      return std::any_of(list.begin(), list.end(),
                         [&](const std::string& d) { return IEquals(DomainOf(address), d); });
    };
    // Mail to a domain neither organization accepts never reached the old mailbox through us
    // (`verify` routes it as external): the cleanup cannot make it bounce.
    bool sourced = domains.source.empty() || accepts(domains.source);
    n.smtp += sourced && !accepts(domains.target);
  }
  return n;
}

void BounceCount::Add(const BouncingAddresses& bouncing, CleanupOption option) {
  if (!bouncing.total()) return;
  addresses += bouncing;
  ++mailboxes;
  std::string name(ToString(option));
  if (std::find(options.begin(), options.end(), name) == options.end()) options.push_back(name);
}

std::string BounceWarning(const BounceCount& count) {
  if (!count.addresses.total()) return "";
  std::vector<std::string> parts;
  if (count.addresses.smtp)
    parts.push_back(fmt::format("{} will bounce (no object left to forward them)",
                                CountOf(count.addresses.smtp, "SMTP address")));
  if (count.addresses.x500)
    parts.push_back(fmt::format("{} (replies to old mail) will fail",
                                CountOf(count.addresses.x500, "X500/legacyExchangeDN address")));
  return fmt::format(
      "warning: {} leaves no forwarding object for {}: {}. A GAL sync that covers them keeps "
      "them working; CreateSourceContact or MailEnableSourceAccount forward them to the new "
      "mailboxes",
      Join(count.options, " / "), CountOf(count.mailboxes, "mailbox"), Join(parts, "; "));
}

}  // namespace cm
