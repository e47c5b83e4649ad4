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
  for (const auto& v : source.Get(p.proxy_addresses)) {
    auto proxy = ProxyAddress::Parse(v);
    if (!proxy.ok()) continue;
    if (proxy->IsSmtp()) out.push_back(proxy->address());
    if (proxy->IsX500()) out.push_back("X500:" + proxy->address());
  }
  std::string legacy = source.First(p.legacy_dn);
  if (!legacy.empty()) out.push_back("X500:" + legacy);
  return out;
}

std::vector<std::string> TargetDomains(const Config& config,
                                       const std::vector<MailboxPlan>& plans) {
  if (!config.target.domains.empty()) return config.target.domains;
  std::set<std::string> domains;
  for (const auto& p : plans) domains.insert(DomainOf(p.target_primary_smtp));
  if (!config.target_smtp_domain.empty()) domains.insert(AsciiLower(config.target_smtp_domain));
  return {domains.begin(), domains.end()};
}

size_t AddressesThatWillBounce(const Entry& source, const MailboxPlan& plan,
                               const std::vector<std::string>& target_domains,
                               const AttributeProfile& profile) {
  if (plan.cleanup != CleanupOption::kDeleteSourceMailbox &&
      plan.cleanup != CleanupOption::kDeleteSourceNTAccount)
    return 0;
  size_t n = 0;
  for (const auto& address : OldAddresses(source, profile)) {
    // An EX / X500 address is resolved in the organization it is sent from: the source's.
    bool reaches_target =
        !address.starts_with("X500:") &&
        std::any_of(target_domains.begin(), target_domains.end(),
                    [&](const std::string& d) { return IEquals(DomainOf(address), d); });
    n += !reaches_target;
  }
  return n;
}

void BounceCount::Add(size_t bouncing, CleanupOption option) {
  if (!bouncing) return;
  addresses += bouncing;
  ++mailboxes;
  std::string name(ToString(option));
  if (std::find(options.begin(), options.end(), name) == options.end()) options.push_back(name);
}

std::string BounceWarning(const BounceCount& count) {
  if (!count.addresses) return "";
  return fmt::format(
      "warning: {} leaves no forwarding object: {} old address{} of {} mailbox{} will bounce "
      "(NDR 5.1.1) unless a GAL sync covers them; CreateSourceContact or MailEnableSourceAccount "
      "forward them to the new mailboxes",
      Join(count.options, " / "), count.addresses, count.addresses == 1 ? "" : "es",
      count.mailboxes, count.mailboxes == 1 ? "" : "es");
}

}  // namespace cm
