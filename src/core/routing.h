// The routing model (SPEC §7): where does mail for an address end up, given the directories of
// every organization? An SMTP address is resolved in the organization that accepts its domain;
// an EX address (X500 / legacyExchangeDN, or its IMCEAEX encapsulation on an NDR) in the
// organization it was sent from. Contacts and mail users forward to their targetAddress.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/recipient.h"

namespace cm {

struct Organization {
  std::string name;  // "source", "target"
  std::vector<std::string>
      accepted_domains;  // lower-case; a domain also covers its subdomains? no: exact
  std::vector<Entry> recipients;
  AttributeProfile profile;
};

struct RouteHop {
  std::string org;
  std::string dn;
  RecipientKind kind;
  std::string address;  // the address resolved at this hop
};

enum class RouteOutcome {
  kDelivered,      // reached a mailbox
  kExternal,       // left every modelled organization (no org accepts the domain)
  kNdrUnknown,     // 5.1.1: no object holds the address
  kNdrAmbiguous,   // 5.1.4: several objects hold it
  kNdrLoop,        // 5.4.6: forwarding loop or more than kMaxHops hops
  kNdrNoRoute,     // 5.1.1: the object holds the address but neither has a mailbox nor forwards
  kNdrBadAddress,  // 5.1.3: not an address
};
std::string_view ToString(RouteOutcome outcome);
// The enhanced status code an MTA would use (RFC 3463), "" for delivered/external.
std::string_view NdrCode(RouteOutcome outcome);

struct Route {
  RouteOutcome outcome = RouteOutcome::kNdrUnknown;
  std::vector<RouteHop> hops;  // last hop is the mailbox when delivered
  std::string detail;          // e.g. the ambiguous DNs
  bool delivered() const { return outcome == RouteOutcome::kDelivered; }
  const RouteHop* final_hop() const { return hops.empty() ? nullptr : &hops.back(); }
};

class RoutingModel {
 public:
  static constexpr int kMaxHops = 10;
  explicit RoutingModel(std::vector<Organization> orgs);

  // `address`: `user@domain`, `SMTP:user@domain`, `X500:/o=...`, `EX:/o=...`, `/o=...`, or
  // `IMCEAEX-...@domain`. `from_org` is where an EX address is resolved (default: the first).
  Route Resolve(std::string_view address, std::string_view from_org = "") const;

 private:
  struct OrgIndex {
    Organization org;
    std::map<std::string, std::vector<size_t>> smtp;  // lower-case address -> recipients
    std::map<std::string, std::vector<size_t>> x500;  // lower-case legacy DN -> recipients
  };
  const OrgIndex* OrgForDomain(std::string_view domain) const;
  const OrgIndex* OrgByName(std::string_view name) const;

  std::vector<OrgIndex> orgs_;
};

}  // namespace cm
