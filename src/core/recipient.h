// Recipients as Exchange classifies them, and the attribute names they are read from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/proxy_address.h"
#include "core/status.h"

namespace cm {

// Names of the directory attributes the tool reads and writes. The defaults are the Exchange
// schema's (the `exchange` profile); a site whose directory spells them differently remaps
// them in the config ([profile] section) without touching the planner.
struct AttributeProfile {
  std::string cn = "cn";
  std::string surname = "sn";
  std::string given_name = "givenName";
  std::string initials = "initials";
  std::string display_name = "displayName";
  std::string mail = "mail";
  std::string mail_nickname = "mailNickname";
  std::string proxy_addresses = "proxyAddresses";
  std::string legacy_dn = "legacyExchangeDN";
  std::string target_address = "targetAddress";
  std::string mailbox_guid = "msExchMailboxGuid";
  std::string home_mdb = "homeMDB";
  std::string home_server = "msExchHomeServerName";
  std::string type_details = "msExchRecipientTypeDetails";
  std::string display_type = "msExchRecipientDisplayType";
  std::string sam_account_name = "sAMAccountName";
  std::string user_principal_name = "userPrincipalName";
  std::string user_account_control = "userAccountControl";
  std::string object_guid = "objectGUID";
  std::vector<std::string> user_classes = {"top", "person", "organizationalPerson", "user"};
  std::vector<std::string> contact_classes = {"top", "person", "organizationalPerson", "contact"};
  // Removed from the source by DeleteSourceMailbox / MailEnableSourceAccount (SPEC §6), in order.
  std::vector<std::string> mailbox_attributes = {"homeMDB",
                                                 "homeMTA",
                                                 "msExchHomeServerName",
                                                 "msExchMailboxGuid",
                                                 "msExchRecipientTypeDetails",
                                                 "msExchRecipientDisplayType",
                                                 "mailNickname",
                                                 "mail",
                                                 "proxyAddresses",
                                                 "legacyExchangeDN",
                                                 "showInAddressBook",
                                                 "textEncodedORAddress",
                                                 "msExchMailboxSecurityDescriptor",
                                                 "msExchUserAccountControl",
                                                 "msExchPoliciesIncluded",
                                                 "msExchRBACPolicyLink",
                                                 "msExchArchiveGUID",
                                                 "msExchArchiveName",
                                                 "mDBUseDefaults",
                                                 "msExchDumpsterQuota",
                                                 "msExchDumpsterWarningQuota",
                                                 "msExchELCMailboxFlags",
                                                 "msExchMailboxTemplateLink",
                                                 "msExchWhenMailboxCreated",
                                                 "msExchVersion",
                                                 "msExchTextMessagingState",
                                                 "msExchUMDtmfMap",
                                                 "msExchSafeSendersHash",
                                                 "msExchResourceCapacity",
                                                 "msExchResourceDisplay",
                                                 "msExchResourceMetaData",
                                                 "msExchResourceSearchProperties"};
  // A room's or equipment mailbox's booking attributes: copied to the target mailbox as the
  // source has them (Exchange's resource properties: capacity, "Room"/"Equipment", metadata).
  std::vector<std::string> resource_attributes = {"msExchResourceCapacity", "msExchResourceDisplay",
                                                  "msExchResourceMetaData",
                                                  "msExchResourceSearchProperties"};
  // Exchange's mirror of the account's disabled state (2) on shared and resource mailboxes.
  std::string exchange_account_control = "msExchUserAccountControl";
  // Address-book attributes copied to the new user and to a source contact.
  std::vector<std::string> gal_attributes = {"title",
                                             "department",
                                             "company",
                                             "telephoneNumber",
                                             "physicalDeliveryOfficeName",
                                             "streetAddress",
                                             "l",
                                             "st",
                                             "postalCode",
                                             "co",
                                             "c",
                                             "mobile",
                                             "facsimileTelephoneNumber",
                                             "description"};
};

// msExchRecipientTypeDetails values (a 64-bit field in Exchange).
namespace recipient_type {
inline constexpr uint64_t kUserMailbox = 1;
inline constexpr uint64_t kLinkedMailbox = 2;
inline constexpr uint64_t kSharedMailbox = 4;
inline constexpr uint64_t kLegacyMailbox = 8;
inline constexpr uint64_t kRoomMailbox = 16;
inline constexpr uint64_t kEquipmentMailbox = 32;
inline constexpr uint64_t kMailContact = 64;
inline constexpr uint64_t kMailUser = 128;
inline constexpr uint64_t kUser = 65536;
inline constexpr uint64_t kContact = 131072;
inline constexpr uint64_t kDisabledUser = 2097152;
inline constexpr uint64_t kRemoteUserMailbox = 2147483648ULL;
inline constexpr uint64_t kRemoteRoomMailbox = 8589934592ULL;
inline constexpr uint64_t kRemoteEquipmentMailbox = 17179869184ULL;
inline constexpr uint64_t kRemoteSharedMailbox = 34359738368ULL;
// msExchRecipientDisplayType
inline constexpr uint64_t kDisplayMailboxUser = 1073741824;  // ACL-able mailbox user
inline constexpr uint64_t kDisplaySharedMailbox = 0;         // MailboxUser
inline constexpr uint64_t kDisplayRoomMailbox = 7;           // ConferenceRoomMailbox
inline constexpr uint64_t kDisplayEquipmentMailbox = 8;      // EquipmentMailbox
inline constexpr uint64_t kDisplayRemoteMailUser = 6;
}  // namespace recipient_type

enum class RecipientKind {
  kMailbox,      // has a mailbox in this organization (user, shared, room, equipment, linked)
  kMailUser,     // user that forwards to targetAddress (MailUser, RemoteMailbox)
  kMailContact,  // contact that forwards to targetAddress
  kUser,         // no mail attributes
  kContact,      // contact without mail
  kOther,
};

std::string_view ToString(RecipientKind kind);
// Exchange name of a type-details value ("UserMailbox"), or the number.
std::string RecipientTypeName(uint64_t type_details);

// A read-only view of an entry through the profile.
class Recipient {
 public:
  Recipient(const Entry& entry, const AttributeProfile& profile) : e_(entry), p_(profile) {}
  // A view must not outlive what it views: temporaries are refused at compile time.
  Recipient(Entry&&, const AttributeProfile&) = delete;
  Recipient(const Entry&, AttributeProfile&&) = delete;

  const Entry& entry() const { return e_; }
  RecipientKind kind() const;
  std::optional<uint64_t> type_details() const;
  std::string alias() const { return e_.First(p_.mail_nickname); }
  std::string display_name() const;
  std::string legacy_dn() const { return e_.First(p_.legacy_dn); }
  std::string sam_account_name() const { return e_.First(p_.sam_account_name); }
  Result<ProxyAddressSet> proxies() const;
  // The primary SMTP address (from proxyAddresses, else mail), "" when none.
  std::string primary_smtp() const;
  // targetAddress without its `SMTP:` prefix, "" when none.
  std::string forwarding_smtp() const;

 private:
  const Entry& e_;
  const AttributeProfile& p_;
};

}  // namespace cm
