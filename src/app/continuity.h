// Mail continuity (SPEC §7): the routing model of both organizations, and where every old
// address of a journaled mailbox lands in it against what its state and cleanup predict. `run`
// proves it after each cleanup (the routing step); `verify` reports it.
#pragma once

#include <string>
#include <vector>

#include "app/organizations.h"
#include "core/planner.h"
#include "core/recipient.h"
#include "core/routing.h"
#include "input/config.h"
#include "journal/journal.h"
#include "journal/serialize.h"

namespace cm {

// Where one old address lands now, and whether that is what the state predicts.
struct AddressCheck {
  std::string address;
  Route route;
  std::string expected;  // "new mailbox", "old mailbox", "NDR", "external"
  bool as_expected = false;
  bool warning = false;  // as predicted, but mail does not reach the new mailbox (None)
};

// Every old address of the snapshot (SMTP and X500 proxies, the legacyExchangeDN), resolved.
std::vector<AddressCheck> CheckContinuity(const RoutingModel& model, const JournalMailbox& jm,
                                          const Snapshot& snap, const MailboxPlan& plan,
                                          const AttributeProfile& profile);

// Both organizations as they are now; accepted domains default to those the moved mailboxes
// use on each side.
Result<RoutingModel> BuildModel(Organizations& orgs, const Config& config,
                                const std::vector<Snapshot>& snapshots,
                                const std::vector<MailboxPlan>& plans);

}  // namespace cm
