#include "app/continuity.h"

#include <set>

#include "app/bounces.h"
#include "core/dn.h"
#include "core/smtp.h"

namespace cm {

std::vector<AddressCheck> CheckContinuity(const RoutingModel& model, const JournalMailbox& jm,
                                          const Snapshot& snap, const MailboxPlan& plan,
                                          const AttributeProfile& profile) {
  bool cleaned =
      jm.state == MailboxState::kSourceCleaned || jm.state == MailboxState::kRoutingVerified;
  std::vector<AddressCheck> out;
  for (const auto& address : OldAddresses(snap.source, profile)) {
    AddressCheck c;
    c.address = address;
    c.route = model.Resolve(address, "source");
    const RouteHop* last = c.route.final_hop();
    auto delivered_to = [&](const std::string& org, const std::string& dn) {
      return c.route.delivered() && last && last->org == org && DnEquals(last->dn, dn);
    };
    if (c.route.outcome == RouteOutcome::kExternal) {
      // A proxy in a domain neither organization accepts never reached the old mailbox (the
      // Internet routes it elsewhere, before the move as after): not ours to keep reaching.
      c.expected = "external";
      c.as_expected = true;
    } else if (!cleaned || plan.cleanup == CleanupOption::kNone) {
      c.expected = "old mailbox";
      c.as_expected = delivered_to("source", snap.source.dn());
      c.warning = cleaned;
    } else if (plan.cleanup == CleanupOption::kCreateSourceContact ||
               plan.cleanup == CleanupOption::kMailEnableSourceAccount) {
      c.expected = "new mailbox";
      c.as_expected = delivered_to("target", plan.target_dn);
    } else {
      c.expected = "NDR";
      c.as_expected = !c.route.delivered();
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<RoutingModel> BuildModel(Organizations& orgs, const Config& config,
                                const std::vector<Snapshot>& snapshots,
                                const std::vector<MailboxPlan>& plans) {
  auto everything = [](Directory& d, const std::string& base) {
    return d.Search(base, Scope::kSubtree, Filter::Present("objectClass"));
  };
  auto src = everything(*orgs.source, orgs.source_base);
  if (!src.ok()) return src.status();
  auto tgt = everything(*orgs.target, orgs.target_base);
  if (!tgt.ok()) return tgt.status();
  std::vector<std::string> source_domains = config.source.domains;
  if (source_domains.empty()) {
    std::set<std::string> used;
    for (const auto& s : snapshots) {
      for (const auto& a : OldAddresses(s.source, config.profile)) {
        if (!a.starts_with("X500:")) used.insert(DomainOf(a));
      }
    }
    source_domains.assign(used.begin(), used.end());
  }
  return RoutingModel({{"source", std::move(source_domains), std::move(*src), config.profile},
                       {"target", TargetDomains(config, plans), std::move(*tgt), config.profile}});
}

}  // namespace cm
