// The old addresses a cleanup leaves without an owner (SPEC §6: DeleteSourceMailbox and
// DeleteSourceNTAccount leave no forwarding object), counted before the move so that `plan` and
// `run` say how many will bounce, and listed as `verify` resolves them.
#pragma once

#include <string>
#include <vector>

#include "core/entry.h"
#include "core/planner.h"
#include "core/recipient.h"
#include "input/config.h"

namespace cm {

// Every address mail may be sent to a mailbox by: its SMTP proxies, its X500 proxies and its
// legacyExchangeDN (as "X500:..."), in that order.
std::vector<std::string> OldAddresses(const Entry& source, const AttributeProfile& profile);

// The domains the target organization accepts: `target.domains`, else those of the new primary
// addresses and the target SMTP domain (docs/DECISIONS.md).
std::vector<std::string> TargetDomains(const Config& config, const std::vector<MailboxPlan>& plans);

// Old addresses of one mailbox that will bounce once its cleanup has run: none unless the
// cleanup removes the mailbox without a forwarder (Delete*); then every old address except an
// SMTP address in a domain the target organization accepts (mail to it reaches the new mailbox,
// which carries every old address as a proxy).
size_t AddressesThatWillBounce(const Entry& source, const MailboxPlan& plan,
                               const std::vector<std::string>& target_domains,
                               const AttributeProfile& profile);

// Counts of the mailboxes to be cleaned up, for the warning below.
struct BounceCount {
  size_t addresses = 0;
  size_t mailboxes = 0;
  std::vector<std::string> options;  // the Delete* options that cause them, each once
  void Add(size_t bouncing, CleanupOption option);
};

// "warning: DeleteSourceMailbox leaves no forwarding object: 13 old addresses of 4 mailboxes will
// bounce (NDR 5.1.1) ..."; "" when none will.
std::string BounceWarning(const BounceCount& count);

}  // namespace cm
