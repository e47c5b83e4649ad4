#include "core/routing.h"

#include <fmt/format.h>

#include <set>

#include "core/legacy_dn.h"
#include "core/proxy_address.h"
#include "core/smtp.h"
#include "core/strings.h"

namespace cm {

std::string_view ToString(RouteOutcome outcome) {
  switch (outcome) {
    case RouteOutcome::kDelivered:
      return "delivered";
    case RouteOutcome::kExternal:
      return "external";
    case RouteOutcome::kNdrUnknown:
      return "NDR unknown recipient";
    case RouteOutcome::kNdrAmbiguous:
      return "NDR ambiguous recipient";
    case RouteOutcome::kNdrLoop:
      return "NDR routing loop";
    case RouteOutcome::kNdrNoRoute:
      return "NDR no mailbox or forwarding";
    case RouteOutcome::kNdrBadAddress:
      return "NDR bad address";
  }
  return "?";
}

std::string_view NdrCode(RouteOutcome outcome) {
  switch (outcome) {
    case RouteOutcome::kDelivered:
    case RouteOutcome::kExternal:
      return "";
    case RouteOutcome::kNdrUnknown:
    case RouteOutcome::kNdrNoRoute:
      return "5.1.1";
    case RouteOutcome::kNdrAmbiguous:
      return "5.1.4";
    case RouteOutcome::kNdrLoop:
      return "5.4.6";
    case RouteOutcome::kNdrBadAddress:
      return "5.1.3";
  }
  return "";
}

RoutingModel::RoutingModel(std::vector<Organization> orgs) {
  for (auto& org : orgs) {
    OrgIndex idx;
    idx.org = std::move(org);
    for (auto& d : idx.org.accepted_domains) d = AsciiLower(d);
    const AttributeProfile& p = idx.org.profile;
    for (size_t i = 0; i < idx.org.recipients.size(); ++i) {
      const Entry& e = idx.org.recipients[i];
      std::set<std::string> smtp_keys, x500_keys;
      for (const auto& v : e.Get(p.proxy_addresses)) {
        auto proxy = ProxyAddress::Parse(v);
        if (!proxy.ok()) continue;
        if (proxy->IsSmtp()) smtp_keys.insert(AsciiLower(proxy->address()));
        if (proxy->IsX500()) x500_keys.insert(AsciiLower(proxy->address()));
      }
      std::string legacy = e.First(p.legacy_dn);
      if (!legacy.empty()) x500_keys.insert(AsciiLower(legacy));
      for (const auto& k : smtp_keys) idx.smtp[k].push_back(i);
      for (const auto& k : x500_keys) idx.x500[k].push_back(i);
    }
    orgs_.push_back(std::move(idx));
  }
}

const RoutingModel::OrgIndex* RoutingModel::OrgForDomain(std::string_view domain) const {
  std::string d = AsciiLower(domain);
  for (const auto& o : orgs_) {
    for (const auto& ad : o.org.accepted_domains) {
      if (ad == d) return &o;
    }
  }
  return nullptr;
}

const RoutingModel::OrgIndex* RoutingModel::OrgByName(std::string_view name) const {
  for (const auto& o : orgs_) {
    if (IEquals(o.org.name, name)) return &o;
  }
  return orgs_.empty() ? nullptr : &orgs_.front();
}

Route RoutingModel::Resolve(std::string_view input, std::string_view from_org) const {
  Route route;
  std::string address(Trim(input));
  bool is_x500 = false;
  if (IStartsWith(address, "IMCEAEX-")) {
    auto decoded = DecodeImceaex(address);
    if (!decoded.ok()) {
      route.outcome = RouteOutcome::kNdrBadAddress;
      route.detail = decoded.status().message();
      return route;
    }
    address = *decoded;
    is_x500 = true;
  } else if (IStartsWith(address, "X500:") || IStartsWith(address, "EX:")) {
    address = address.substr(address.find(':') + 1);
    is_x500 = true;
  } else if (address.starts_with('/')) {
    is_x500 = true;
  } else if (IStartsWith(address, "SMTP:")) {
    address = address.substr(5);
  }

  const OrgIndex* org = nullptr;
  if (is_x500) {
    org = OrgByName(from_org);
  } else {
    if (!ValidateSmtpAddress(address).ok()) {
      route.outcome = RouteOutcome::kNdrBadAddress;
      route.detail = fmt::format("'{}' is not an SMTP address", address);
      return route;
    }
    org = OrgForDomain(DomainOf(address));
  }
  std::set<std::pair<const OrgIndex*, size_t>> visited;
  for (int hop = 0;; ++hop) {
    if (!org) {
      route.outcome = RouteOutcome::kExternal;
      route.detail = fmt::format("no organization accepts {}", DomainOf(address));
      return route;
    }
    if (hop >= kMaxHops) {
      route.outcome = RouteOutcome::kNdrLoop;
      route.detail = fmt::format("more than {} hops", kMaxHops);
      return route;
    }
    const auto& table = is_x500 ? org->x500 : org->smtp;
    auto it = table.find(AsciiLower(address));
    if (it == table.end()) {
      route.outcome = RouteOutcome::kNdrUnknown;
      route.detail = fmt::format("no recipient in {} holds {}", org->org.name, address);
      return route;
    }
    if (it->second.size() > 1) {
      std::vector<std::string> dns;
      for (size_t i : it->second) dns.push_back(org->org.recipients[i].dn());
      route.outcome = RouteOutcome::kNdrAmbiguous;
      route.detail = fmt::format("{} is held by {} objects in {}: {}", address, dns.size(),
                                 org->org.name, Join(dns, "; "));
      return route;
    }
    size_t index = it->second.front();
    const Entry& e = org->org.recipients[index];
    Recipient r(e, org->org.profile);
    route.hops.push_back({org->org.name, e.dn(), r.kind(), address});
    if (!visited.insert({org, index}).second) {
      route.outcome = RouteOutcome::kNdrLoop;
      route.detail = fmt::format("{} forwards back to itself", e.dn());
      return route;
    }
    if (r.kind() == RecipientKind::kMailbox) {
      route.outcome = RouteOutcome::kDelivered;
      return route;
    }
    std::string next = r.forwarding_smtp();
    if (next.empty()) {
      route.outcome = RouteOutcome::kNdrNoRoute;
      route.detail =
          fmt::format("{} ({}) has no mailbox and no targetAddress", e.dn(), ToString(r.kind()));
      return route;
    }
    if (!ValidateSmtpAddress(next).ok()) {
      route.outcome = RouteOutcome::kNdrBadAddress;
      route.detail = fmt::format("{} forwards to '{}', which is not an SMTP address", e.dn(), next);
      return route;
    }
    address = next;
    is_x500 = false;
    org = OrgForDomain(DomainOf(address));
  }
}

}  // namespace cm
