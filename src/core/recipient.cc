#include "core/recipient.h"

#include <charconv>

#include "core/strings.h"

namespace cm {

std::string_view ToString(RecipientKind kind) {
  switch (kind) {
    case RecipientKind::kMailbox:
      return "Mailbox";
    case RecipientKind::kMailUser:
      return "MailUser";
    case RecipientKind::kMailContact:
      return "MailContact";
    case RecipientKind::kUser:
      return "User";
    case RecipientKind::kContact:
      return "Contact";
    case RecipientKind::kOther:
      return "Other";
  }
  return "Other";
}

std::string RecipientTypeName(uint64_t t) {
  namespace rt = recipient_type;
  switch (t) {
    case rt::kUserMailbox:
      return "UserMailbox";
    case rt::kLinkedMailbox:
      return "LinkedMailbox";
    case rt::kSharedMailbox:
      return "SharedMailbox";
    case rt::kLegacyMailbox:
      return "LegacyMailbox";
    case rt::kRoomMailbox:
      return "RoomMailbox";
    case rt::kEquipmentMailbox:
      return "EquipmentMailbox";
    case rt::kMailContact:
      return "MailContact";
    case rt::kMailUser:
      return "MailUser";
    case rt::kUser:
      return "User";
    case rt::kContact:
      return "Contact";
    case rt::kDisabledUser:
      return "DisabledUser";
    case rt::kRemoteUserMailbox:
      return "RemoteUserMailbox";
    case rt::kRemoteRoomMailbox:
      return "RemoteRoomMailbox";
    case rt::kRemoteEquipmentMailbox:
      return "RemoteEquipmentMailbox";
    case rt::kRemoteSharedMailbox:
      return "RemoteSharedMailbox";
  }
  return std::to_string(t);
}

std::optional<uint64_t> Recipient::type_details() const {
  std::string v = e_.First(p_.type_details);
  if (v.empty()) return std::nullopt;
  // AD stores the 64-bit value as a signed LARGE_INTEGER; accept both spellings.
  int64_t signed_value = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), signed_value);
  if (ec == std::errc() && ptr == v.data() + v.size()) return static_cast<uint64_t>(signed_value);
  uint64_t value = 0;
  auto [ptr2, ec2] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec2 == std::errc() && ptr2 == v.data() + v.size()) return value;
  return std::nullopt;
}

RecipientKind Recipient::kind() const {
  namespace rt = recipient_type;
  bool contact = e_.HasClass("contact");
  if (auto t = type_details()) {
    switch (*t) {
      case rt::kUserMailbox:
      case rt::kLinkedMailbox:
      case rt::kSharedMailbox:
      case rt::kLegacyMailbox:
      case rt::kRoomMailbox:
      case rt::kEquipmentMailbox:
        return RecipientKind::kMailbox;
      case rt::kMailContact:
        return RecipientKind::kMailContact;
      case rt::kMailUser:
      case rt::kRemoteUserMailbox:
      case rt::kRemoteRoomMailbox:
      case rt::kRemoteEquipmentMailbox:
      case rt::kRemoteSharedMailbox:
        return RecipientKind::kMailUser;
      case rt::kUser:
      case rt::kDisabledUser:
        return RecipientKind::kUser;
      case rt::kContact:
        return RecipientKind::kContact;
      default:
        return RecipientKind::kOther;
    }
  }
  // No type details (directories written by other tools): infer from the attributes.
  if (e_.Has(p_.home_mdb) && !contact) return RecipientKind::kMailbox;
  if (e_.Has(p_.target_address))
    return contact ? RecipientKind::kMailContact : RecipientKind::kMailUser;
  if (contact) return RecipientKind::kContact;
  if (e_.HasClass("user") || e_.HasClass("person")) return RecipientKind::kUser;
  return RecipientKind::kOther;
}

std::string Recipient::display_name() const {
  std::string d = e_.First(p_.display_name);
  return d.empty() ? e_.First(p_.cn) : d;
}

Result<ProxyAddressSet> Recipient::proxies() const {
  return ProxyAddressSet::Parse(e_.Get(p_.proxy_addresses));
}

std::string Recipient::primary_smtp() const {
  auto set = proxies();
  if (set.ok()) {
    if (const ProxyAddress* p = set->Primary("SMTP")) return p->address();
  }
  return e_.First(p_.mail);
}

std::string Recipient::forwarding_smtp() const {
  std::string t = e_.First(p_.target_address);
  if (IStartsWith(t, "smtp:")) return t.substr(5);
  return t;
}

}  // namespace cm
