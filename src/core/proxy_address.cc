#include "core/proxy_address.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cm {

Result<ProxyAddress> ProxyAddress::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidInput(fmt::format("proxy address '{}' has no 'type:' prefix", text));
  }
  std::string_view type = text.substr(0, colon);
  // Exchange address types are 1-9 characters of letters and digits (SMTP, X400, EUM, SIP...).
  if (type.size() > 9) {
    return Status::InvalidInput(
        fmt::format("proxy address '{}': type '{}' is too long", text, type));
  }
  bool has_lower = false, has_upper = false;
  for (char c : type) {
    if (!isalnum(static_cast<unsigned char>(c))) {
      return Status::InvalidInput(fmt::format("proxy address '{}': bad type '{}'", text, type));
    }
    has_lower |= (c >= 'a' && c <= 'z');
    has_upper |= (c >= 'A' && c <= 'Z');
  }
  if (has_lower && has_upper) {
    return Status::InvalidInput(
        fmt::format("proxy address '{}': type '{}' mixes cases, so primary or secondary is unclear",
                    text, type));
  }
  std::string_view address = text.substr(colon + 1);
  if (address.empty()) {
    return Status::InvalidInput(fmt::format("proxy address '{}' has an empty address", text));
  }
  ProxyAddress p;
  p.type_ = AsciiUpper(type);
  p.address_ = std::string(address);
  p.primary_ = p.type_ != "X500" && !has_lower;
  return p;
}

ProxyAddress ProxyAddress::Smtp(std::string_view address, bool primary) {
  ProxyAddress p;
  p.type_ = "SMTP";
  p.address_ = std::string(address);
  p.primary_ = primary;
  return p;
}

ProxyAddress ProxyAddress::X500(std::string_view legacy_dn) {
  ProxyAddress p;
  p.type_ = "X500";
  p.address_ = std::string(legacy_dn);
  return p;
}

ProxyAddress ProxyAddress::WithPrimary(bool primary) const {
  ProxyAddress p = *this;
  p.primary_ = IsX500() ? false : primary;
  return p;
}

std::string ProxyAddress::ToString() const {
  bool upper = primary_ || IsX500();
  return (upper ? type_ : AsciiLower(type_)) + ":" + address_;
}

bool ProxyAddress::SameAddress(const ProxyAddress& other) const {
  return type_ == other.type_ && IEquals(address_, other.address_);
}

Result<ProxyAddressSet> ProxyAddressSet::Parse(const std::vector<std::string>& values) {
  ProxyAddressSet set;
  for (const auto& v : values) {
    auto p = ProxyAddress::Parse(v);
    if (!p.ok()) return p.status();
    set.items_.push_back(*p);  // keep duplicates as found: CheckPrimaries/validation report them
  }
  return set;
}

bool ProxyAddressSet::Add(const ProxyAddress& p) {
  if (Contains(p)) return false;
  items_.push_back(p);
  return true;
}

void ProxyAddressSet::MakePrimary(const ProxyAddress& p) {
  bool found = false;
  for (auto& item : items_) {
    if (item.type() != p.type()) continue;
    if (item.SameAddress(p)) {
      item = p.WithPrimary(true);
      found = true;
    } else {
      item = item.WithPrimary(false);
    }
  }
  if (!found) items_.push_back(p.WithPrimary(true));
}

bool ProxyAddressSet::Contains(const ProxyAddress& p) const {
  for (const auto& item : items_) {
    if (item.SameAddress(p)) return true;
  }
  return false;
}

const ProxyAddress* ProxyAddressSet::Primary(std::string_view type) const {
  for (const auto& item : items_) {
    if (item.type() == type && item.primary()) return &item;
  }
  return nullptr;
}

std::vector<ProxyAddress> ProxyAddressSet::OfType(std::string_view type) const {
  std::vector<ProxyAddress> out;
  for (const auto& item : items_) {
    if (item.type() == type) out.push_back(item);
  }
  return out;
}

Status ProxyAddressSet::CheckPrimaries() const {
  std::vector<std::string> types;
  for (const auto& item : items_) {
    bool seen = false;
    for (const auto& t : types) seen |= t == item.type();
    if (!seen) types.push_back(item.type());
  }
  for (const auto& type : types) {
    if (type == "X500") continue;
    int primaries = 0;
    for (const auto& item : items_) primaries += item.type() == type && item.primary();
    if (primaries > 1) {
      return Status::InvalidInput(
          fmt::format("{} primary {} addresses (exactly one allowed)", primaries, type));
    }
    if (type == "SMTP" && primaries == 0) {
      return Status::InvalidInput("no primary SMTP address (one SMTP: value required)");
    }
  }
  return Status::Ok();
}

std::vector<std::string> ProxyAddressSet::ToStrings() const {
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& item : items_) out.push_back(item.ToString());
  return out;
}

}  // namespace cm
