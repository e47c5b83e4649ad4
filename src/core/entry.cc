#include "core/entry.h"

#include <algorithm>

namespace cm {

std::vector<Entry::Attribute>::iterator Entry::Find(std::string_view attr) {
  return std::find_if(attrs_.begin(), attrs_.end(),
                      [&](const Attribute& a) { return IEquals(a.first, attr); });
}

std::vector<Entry::Attribute>::const_iterator Entry::Find(std::string_view attr) const {
  return std::find_if(attrs_.begin(), attrs_.end(),
                      [&](const Attribute& a) { return IEquals(a.first, attr); });
}

bool Entry::Has(std::string_view attr) const { return Find(attr) != attrs_.end(); }

const Values& Entry::Get(std::string_view attr) const {
  static const Values kEmpty;
  auto it = Find(attr);
  return it == attrs_.end() ? kEmpty : it->second;
}

std::string Entry::First(std::string_view attr) const {
  const Values& v = Get(attr);
  return v.empty() ? std::string() : v.front();
}

void Entry::Set(std::string_view attr, Values values) {
  if (values.empty()) {
    Remove(attr);
    return;
  }
  auto it = Find(attr);
  if (it == attrs_.end()) {
    attrs_.emplace_back(std::string(attr), std::move(values));
  } else {
    it->second = std::move(values);
  }
}

void Entry::Add(std::string_view attr, std::string value) {
  auto it = Find(attr);
  if (it == attrs_.end()) {
    attrs_.emplace_back(std::string(attr), Values{std::move(value)});
  } else {
    it->second.push_back(std::move(value));
  }
}

void Entry::Remove(std::string_view attr) {
  auto it = Find(attr);
  if (it != attrs_.end()) attrs_.erase(it);
}

bool Entry::HasClass(std::string_view cls) const {
  for (const auto& v : Get("objectClass")) {
    if (IEquals(v, cls)) return true;
  }
  return false;
}

}  // namespace cm
