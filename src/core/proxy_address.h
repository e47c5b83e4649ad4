// Exchange proxy addresses (`proxyAddresses` values): `TYPE:address`. An upper-case type marks
// the primary address of that type (`SMTP:` primary, `smtp:` secondary). X500 addresses are
// never primary: Exchange writes them all as `X500:` and the object's legacyExchangeDN plays the
// primary role, so the one-primary rule applies to every type but X500.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cm {

class ProxyAddress {
 public:
  static Result<ProxyAddress> Parse(std::string_view text);
  static ProxyAddress Smtp(std::string_view address, bool primary);
  static ProxyAddress X500(std::string_view legacy_dn);

  // Upper-case type name: "SMTP", "X500", "X400", "SIP", ...
  const std::string& type() const { return type_; }
  const std::string& address() const { return address_; }
  bool primary() const { return primary_; }
  bool IsSmtp() const { return type_ == "SMTP"; }
  bool IsX500() const { return type_ == "X500"; }
  bool IsX400() const { return type_ == "X400"; }

  ProxyAddress WithPrimary(bool primary) const;
  // `SMTP:a@b` / `smtp:a@b`; X500 always `X500:`.
  std::string ToString() const;
  // Same type and same address, ignoring case (how Exchange and caseIgnoreMatch compare them).
  bool SameAddress(const ProxyAddress& other) const;

 private:
  std::string type_;
  std::string address_;
  bool primary_ = false;
};

// An ordered set of proxies as they appear in proxyAddresses. Order is kept because
// administrators read it, and the planner's output is compared proxy by proxy.
class ProxyAddressSet {
 public:
  // Parses every value; unparseable values are an error naming the value.
  static Result<ProxyAddressSet> Parse(const std::vector<std::string>& values);

  // Adds unless an equal address (case-insensitive) is present; returns whether it was added.
  bool Add(const ProxyAddress& p);
  // Makes `address` the primary of its type, demoting the previous primary; adds it if absent.
  void MakePrimary(const ProxyAddress& p);
  bool Contains(const ProxyAddress& p) const;
  // The primary of a type, or nullptr.
  const ProxyAddress* Primary(std::string_view type) const;
  std::vector<ProxyAddress> OfType(std::string_view type) const;
  // Exactly one primary SMTP when any SMTP address exists; at most one primary per other type.
  Status CheckPrimaries() const;

  const std::vector<ProxyAddress>& items() const { return items_; }
  std::vector<std::string> ToStrings() const;
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

 private:
  std::vector<ProxyAddress> items_;
};

}  // namespace cm
