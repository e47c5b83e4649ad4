// The old addresses a cleanup leaves without an owner (SPEC §6: DeleteSourceMailbox and
// DeleteSourceNTAccount leave no forwarding object), counted before the move so that `plan` and
// `run` say how many will bounce, and listed as `verify` resolves them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/entry.h"
#include "core/planner.h"
#include "core/recipient.h"
#include "input/config.h"

namespace cm {

// Every address mail may be sent to a mailbox by: its SMTP proxies, its X500 proxies and its
// legacyExchangeDN (as "X500:..."), in that order, each once whatever its case.
std::vector<std::string> OldAddresses(const Entry& source, const AttributeProfile& profile);

// The domains the target organization accepts: `target.domains`, else those of the new primary
// addresses and the target SMTP domain (docs/DECISIONS.md).
std::vector<std::string> TargetDomains(const Config& config, const std::vector<MailboxPlan>& plans);

// The domains each organization accepts: `source.domains` (empty: every domain its objects use)
// and TargetDomains.
struct AcceptedDomains {
  std::vector<std::string> source;
  std::vector<std::string> target;
};
AcceptedDomains DomainsOf(const Config& config, const std::vector<MailboxPlan>& plans);

// The old addresses a cleanup leaves without an owner, by what fails: mail to an SMTP address
// bounces (NDR 5.1.1); an X500 / legacyExchangeDN address is what Outlook keeps for replies to
// old mail and cached recipients, and such a reply fails (NDR with an IMCEAEX address).
struct BouncingAddresses {
  size_t smtp = 0;
  size_t x500 = 0;
  size_t total() const { return smtp + x500; }
  BouncingAddresses& operator+=(const BouncingAddresses& other);
};
// {"smtp": N, "x500": M}: `addresses_that_will_bounce` of `plan --json` and `run --json`.
void to_json(nlohmann::json& out, const BouncingAddresses& addresses);

// Old addresses of one mailbox that will bounce once its cleanup has run: none unless the
// cleanup removes the mailbox without a forwarder (Delete*); then every old address except an
// SMTP address in a domain the target organization accepts (mail to it reaches the new mailbox,
// which carries every old address as a proxy) and one in a domain the source does not accept
// (external: it never came to the old mailbox).
BouncingAddresses AddressesThatWillBounce(const Entry& source, const MailboxPlan& plan,
                                          const AcceptedDomains& domains,
                                          const AttributeProfile& profile);

// Counts of the mailboxes to be cleaned up, for the warning below.
struct BounceCount {
  BouncingAddresses addresses;
  size_t mailboxes = 0;
  std::vector<std::string> options;  // the Delete* options that cause them, each once
  void Add(const BouncingAddresses& bouncing, CleanupOption option);
};

// "warning: DeleteSourceMailbox leaves no forwarding object for 4 mailboxes: 9 SMTP addresses
// will bounce (no object left to forward them); 4 X500/legacyExchangeDN addresses (replies to
// old mail) will fail ..."; "" when none will.
std::string BounceWarning(const BounceCount& count);

}  // namespace cm
