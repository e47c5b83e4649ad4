// The cleanup planner: a pure function from (source snapshot, what the target already holds,
// parameters) to the ordered directory operations that provision the target (SPEC §5) and clean
// up the source (SPEC §6). It performs no I/O; the app layer gathers its inputs and applies its
// output, so the same plan is what `plan` prints, what `--ldif` writes and what `run` applies.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/directory_op.h"
#include "core/entry.h"
#include "core/recipient.h"
#include "core/status.h"

namespace cm {

enum class CleanupOption {
  kNone,
  kDeleteSourceMailbox,
  kDeleteSourceNTAccount,
  kCreateSourceContact,
  kMailEnableSourceAccount,
};
Result<CleanupOption> ParseCleanupOption(std::string_view text);
std::string_view ToString(CleanupOption option);
inline constexpr CleanupOption kAllCleanupOptions[] = {
    CleanupOption::kNone, CleanupOption::kDeleteSourceMailbox,
    CleanupOption::kDeleteSourceNTAccount, CleanupOption::kCreateSourceContact,
    CleanupOption::kMailEnableSourceAccount};

struct PlannerParams {
  CleanupOption cleanup = CleanupOption::kNone;
  std::string nt_account_ou;       // target OU for new users
  std::string contacts_ou;         // source OU for contacts
  std::string target_smtp_domain;  // for computed primary addresses
  std::string address_template = "%m";
  std::string target_org;          // /o= of target legacyExchangeDNs
  std::string target_database_dn;  // homeMDB of new mailboxes
  std::string target_home_server;  // msExchHomeServerName, optional
  bool allow_merge = false;
  bool keep_source_primary = false;
};

// Names already in use, so that generated cn / sAMAccountName / legacyExchangeDN / addresses are
// unique. The planner adds what it allocates, so planning a batch never hands one name out twice.
struct NameRegistry {
  std::set<std::string> target_dns;  // NormalizeDn form
  std::set<std::string> source_dns;  // NormalizeDn form
  std::set<std::string, ILess> target_sam_names;
  std::set<std::string, ILess> target_legacy_dns;
  std::set<std::string, ILess> target_smtp_addresses;  // every smtp proxy and mail value
};

enum class TargetAction { kCreate, kReplaceContact, kMergeMailUser };
std::string_view ToString(TargetAction action);

struct MailboxPlan {
  std::string source_dn;
  std::string alias;
  TargetAction target_action = TargetAction::kCreate;
  std::string target_dn;
  std::string target_primary_smtp;
  std::string target_legacy_dn;
  std::string target_database_dn;  // homeMDB of the new mailbox: names its mail store
  CleanupOption cleanup = CleanupOption::kNone;
  std::vector<DirectoryOp> provision;    // target side, in order
  std::vector<DirectoryOp> cleanup_ops;  // source side, in order
};

// Plans one mailbox. `target_matches` are the target objects that share an SMTP proxy, an X500 /
// legacyExchangeDN or the sAMAccountName with the source (SPEC §5). Errors are pre-validation
// failures (a match that may not be merged, a name or address that cannot be built).
Result<MailboxPlan> PlanMailbox(const Entry& source, const std::vector<Entry>& target_matches,
                                const PlannerParams& params, const AttributeProfile& profile,
                                NameRegistry& names);

// The proxyAddresses of the forwarding object (contact or mail-enabled user), SPEC §6.
ProxyAddressSet ForwardingProxies(const ProxyAddressSet& source_proxies,
                                  std::string_view source_legacy_dn,
                                  std::string_view target_primary,
                                  std::string_view target_legacy_dn, bool keep_source_primary);

}  // namespace cm
