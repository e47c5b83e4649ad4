#include "directory/entry_index.h"

#include <algorithm>
#include <charconv>

#include "core/dn.h"
#include "core/strings.h"
#include "directory/schema.h"

namespace cm {

namespace {

// The value as its attribute's matching rule compares it (ValuesEqual): two values it calls
// equal have the same key.
std::string KeyOf(std::string_view attribute, std::string_view value) {
  switch (SyntaxOf(attribute)) {
    case Syntax::kBinary:
      return std::string(value);
    case Syntax::kDn:
      return NormalizeDn(value);
    case Syntax::kInteger: {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && p == value.data() + value.size()) return std::to_string(n);
      return std::string(value);
    }
    case Syntax::kString:
      return FoldCase(value);
  }
  return std::string(value);
}

}  // namespace

void EntryIndex::Index(const Entry* e) {
  order_.try_emplace(e, next_++);
  for (const auto& [attribute, values] : e->attributes()) {
    Postings& postings = values_[AsciiLower(attribute)];
    for (const auto& v : values) postings[KeyOf(attribute, v)].insert(e);
  }
  ++children_[NormalizeDn(ParentDn(e->dn()))];
}

void EntryIndex::Unindex(const Entry* e) {
  for (const auto& [attribute, values] : e->attributes()) {
    auto postings = values_.find(AsciiLower(attribute));
    if (postings == values_.end()) continue;
    for (const auto& v : values) {
      auto holders = postings->second.find(KeyOf(attribute, v));
      if (holders == postings->second.end()) continue;
      holders->second.erase(e);
      if (holders->second.empty()) postings->second.erase(holders);
    }
  }
  auto parent = children_.find(NormalizeDn(ParentDn(e->dn())));
  if (parent != children_.end() && --parent->second == 0) children_.erase(parent);
}

void EntryIndex::Forget(const Entry* e) { order_.erase(e); }

void EntryIndex::Clear() {
  values_.clear();
  children_.clear();
  order_.clear();
  next_ = 0;
}

void EntryIndex::Sort(std::vector<const Entry*>& entries) const {
  std::sort(entries.begin(), entries.end(),
            [&](const Entry* a, const Entry* b) { return order_.at(a) < order_.at(b); });
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
}

std::optional<std::vector<const Entry*>> EntryIndex::Lookup(const Filter& f) const {
  switch (f.kind()) {
    case Filter::Kind::kEquality: {
      std::vector<const Entry*> out;
      auto postings = values_.find(AsciiLower(f.attribute()));
      if (postings == values_.end()) return out;  // no entry holds the attribute
      auto holders = postings->second.find(KeyOf(f.attribute(), f.value()));
      if (holders != postings->second.end())
        out.assign(holders->second.begin(), holders->second.end());
      return out;
    }
    case Filter::Kind::kAnd: {
      // The narrowest child decides; the others are matched against each candidate.
      std::optional<std::vector<const Entry*>> best;
      for (const auto& c : f.children()) {
        auto got = Lookup(c);
        if (got && (!best || got->size() < best->size())) best = std::move(got);
      }
      return best;
    }
    case Filter::Kind::kOr: {
      std::vector<const Entry*> out;
      for (const auto& c : f.children()) {
        auto got = Lookup(c);
        if (!got) return std::nullopt;  // a child no index answers: any entry may match
        out.insert(out.end(), got->begin(), got->end());
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::vector<const Entry*>> EntryIndex::Candidates(const Filter& filter) const {
  auto out = Lookup(filter);
  if (out) Sort(*out);
  return out;
}

std::vector<const Entry*> EntryIndex::Holders(std::string_view attribute,
                                              std::string_view value) const {
  auto out = *Lookup(Filter::Eq(std::string(attribute), std::string(value)));
  Sort(out);
  return out;
}

bool EntryIndex::HasChildren(const std::string& normalized_dn) const {
  return children_.count(normalized_dn) > 0;
}

}  // namespace cm
