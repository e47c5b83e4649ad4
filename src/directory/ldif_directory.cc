#include "directory/ldif_directory.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/dn.h"
#include "core/strings.h"
#include "directory/ldif_format.h"
#include "directory/schema.h"
#include "io/file.h"

namespace cm {

bool Matches(const Filter& f, const Entry& e) {
  switch (f.kind()) {
    case Filter::Kind::kAnd:
      for (const auto& c : f.children()) {
        if (!Matches(c, e)) return false;
      }
      return true;
    case Filter::Kind::kOr:
      for (const auto& c : f.children()) {
        if (Matches(c, e)) return true;
      }
      return false;
    case Filter::Kind::kNot:
      return !Matches(f.children().front(), e);
    case Filter::Kind::kPresent:
      return e.Has(f.attribute());
    case Filter::Kind::kEquality:
      for (const auto& v : e.Get(f.attribute())) {
        if (ValuesEqual(f.attribute(), v, f.value())) return true;
      }
      return false;
    case Filter::Kind::kGreaterOrEqual:
      for (const auto& v : e.Get(f.attribute())) {
        if (CompareValues(f.attribute(), v, f.value()) >= 0) return true;
      }
      return false;
    case Filter::Kind::kLessOrEqual:
      for (const auto& v : e.Get(f.attribute())) {
        if (CompareValues(f.attribute(), v, f.value()) <= 0) return true;
      }
      return false;
    case Filter::Kind::kSubstring: {
      bool binary = SyntaxOf(f.attribute()) == Syntax::kBinary;
      auto fold = [&](std::string_view s) { return binary ? std::string(s) : FoldCase(s); };
      for (const auto& raw : e.Get(f.attribute())) {
        std::string v = fold(raw);
        std::string initial = fold(f.initial()), final_part = fold(f.final_part());
        if (!v.starts_with(initial)) continue;
        size_t pos = initial.size();
        bool ok = true;
        for (const auto& any : f.any()) {
          std::string part = fold(any);  // folded, it may not be as long as typed
          size_t found = v.find(part, pos);
          if (found == std::string::npos) {
            ok = false;
            break;
          }
          pos = found + part.size();
        }
        if (ok && v.size() >= pos + final_part.size() && v.ends_with(final_part)) return true;
      }
      return false;
    }
  }
  return false;
}

Result<std::unique_ptr<LdifDirectory>> LdifDirectory::Open(const std::string& path,
                                                           bool read_only) {
  std::unique_ptr<LdifDirectory> dir(new LdifDirectory());
  dir->url_ = "ldif:" + path;
  dir->path_ = path;
  dir->read_only_ = read_only;
  // A file that cannot be read when the directory is opened is a setting to correct, not a
  // server that is down: the caller names the setting (and its config line).
  if (Status s = dir->Refresh(); !s.ok()) {
    if (s.code() == Status::Code::kUnavailable) return Status::InvalidInput(s.message());
    return s;
  }
  return dir;
}

Status LdifDirectory::Refresh() {
  if (path_.empty()) return Status::Ok();
  // One stat() when nothing changed: cheap enough to run before every search.
  auto now = VersionOf(path_);
  if (now.ok() && *now == version_) return Status::Ok();
  FileVersion read_version;
  auto text = ReadWholeFile(path_, read_version);
  if (!text.ok()) {
    return Status::Unavailable(
        fmt::format("cannot open directory file {}", text.status().message()));
  }
  // A file that no longer parses leaves memory (and the version) as they were: the error is
  // reported, and the next operation tries again.
  auto old_entries = std::move(entries_);
  auto old_by_dn = std::move(by_dn_);
  auto old_index = std::move(index_);
  entries_.clear();
  by_dn_.clear();
  index_.Clear();
  text_.clear();
  if (Status s = Load(*text, path_); !s.ok()) {
    entries_ = std::move(old_entries);
    by_dn_ = std::move(old_by_dn);
    index_ = std::move(old_index);
    return s;
  }
  version_ = read_version;
  return Status::Ok();
}

Result<FileLock> LdifDirectory::BeginWrite() {
  if (path_.empty()) return FileLock();
  auto lock = FileLock::Acquire(path_ + ".lock", /*wait=*/true);
  if (!lock.ok()) return lock.status();
  CM_RETURN_IF_ERROR(Refresh());
  return lock;
}

Result<std::unique_ptr<LdifDirectory>> LdifDirectory::FromText(std::string_view text,
                                                               std::string_view name) {
  std::unique_ptr<LdifDirectory> dir(new LdifDirectory());
  dir->url_ = "ldif:" + std::string(name);
  CM_RETURN_IF_ERROR(dir->Load(text, name));
  return dir;
}

Status LdifDirectory::Load(std::string_view text, std::string_view name) {
  auto records = ParseLdif(text, name);
  if (!records.ok()) return records.status();
  std::unordered_map<std::string, const Entry*> by_account;  // lower-cased sAMAccountName
  for (auto& rec : *records) {
    if (rec.op.kind != DirectoryOp::Kind::kAdd) {
      return Status::InvalidInput(
          fmt::format("{}:{}: a directory file holds entries, not '{}' changes", name, rec.line,
                      ToString(rec.op.kind)));
    }
    auto entry = std::make_unique<Entry>(rec.op.AsEntry());
    std::string key = NormalizeDn(entry->dn());
    if (by_dn_.count(key))
      return Status::InvalidInput(
          fmt::format("{}:{}: duplicate entry {}", name, rec.line, entry->dn()));
    Status s = CheckEntry(*entry, nullptr, /*unique_account=*/false);
    if (!s.ok()) return Status::InvalidInput(fmt::format("{}:{}: {}", name, rec.line, s.message()));
    // The file is reloaded whenever another process writes it: uniqueness by index, not pairs.
    if (std::string sam = AsciiLower(entry->First("sAMAccountName")); !sam.empty()) {
      auto [it, fresh] = by_account.emplace(sam, entry.get());
      if (!fresh) {
        return Status::InvalidInput(
            fmt::format("{}:{}: {}: sAMAccountName '{}' is already used by {}", name, rec.line,
                        entry->dn(), entry->First("sAMAccountName"), it->second->dn()));
      }
    }
    by_dn_[key] = entry.get();
    index_.Index(entry.get());
    entries_.push_back(std::move(entry));
  }
  return Status::Ok();
}

std::string LdifDirectory::base_dn() const {
  // The naming context: the first entry without a parent in the file.
  for (const auto& e : entries_) {
    std::string parent = ParentDn(e->dn());
    if (parent.empty() || !by_dn_.count(NormalizeDn(parent))) return e->dn();
  }
  return "";
}

Entry* LdifDirectory::Find(std::string_view dn) {
  auto it = by_dn_.find(NormalizeDn(dn));
  return it == by_dn_.end() ? nullptr : it->second;
}

Status LdifDirectory::CheckEntry(const Entry& e, const Entry* replacing,
                                 bool unique_account) const {
  const Values& classes = e.Get("objectClass");
  if (classes.empty()) return Status::Constraint(fmt::format("{}: no objectClass", e.dn()));
  for (const auto& cls : classes) {
    for (const auto& attr : RequiredAttributes(cls)) {
      if (!e.Has(attr)) {
        return Status::Constraint(
            fmt::format("{}: objectClass {} requires attribute {}", e.dn(), cls, attr));
      }
    }
  }
  auto rdn = LeadingAva(e.dn());
  if (!rdn.ok()) return rdn.status();
  bool rdn_present = false;
  for (const auto& v : e.Get(rdn->type)) rdn_present |= ValuesEqual(rdn->type, v, rdn->value);
  if (!rdn_present) {
    return Status::Constraint(fmt::format("{}: naming attribute {}={} is not in the entry", e.dn(),
                                          rdn->type, rdn->value));
  }
  for (const auto& [attr, values] : e.attributes()) {
    if (values.size() > 1 && IsSingleValued(attr)) {
      return Status::Constraint(
          fmt::format("{}: {} is single-valued but has {} values", e.dn(), attr, values.size()));
    }
    for (size_t i = 0; i < values.size(); ++i) {
      for (size_t j = i + 1; j < values.size(); ++j) {
        if (ValuesEqual(attr, values[i], values[j])) {
          return Status::Constraint(
              fmt::format("{}: {} value '{}' appears twice", e.dn(), attr, values[j]));
        }
      }
    }
  }
  // sAMAccountName is unique in a domain (AD enforces it; other directories should).
  std::string sam = unique_account ? e.First("sAMAccountName") : std::string();
  if (!sam.empty()) {
    for (const Entry* other : index_.Holders("sAMAccountName", sam)) {
      if (other != replacing && !DnEquals(other->dn(), e.dn())) {
        return Status::Constraint(
            fmt::format("{}: sAMAccountName '{}' is already used by {}", e.dn(), sam, other->dn()));
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<Entry>> LdifDirectory::Search(std::string_view base, Scope scope,
                                                 const Filter& filter,
                                                 const std::vector<std::string>& attributes) {
  // Another process's writes made before this search are seen by it.
  CM_RETURN_IF_ERROR(Refresh());
  std::string nbase = NormalizeDn(base);
  if (!nbase.empty() && !by_dn_.count(nbase)) {
    return Status::NotFound(fmt::format("search base {} does not exist in {}", base, url_));
  }
  std::vector<Entry> out;
  // An equality filter (or an AND or OR of them) looks at the entries that hold its values.
  std::vector<const Entry*> all;
  auto candidates = index_.Candidates(filter);
  if (!candidates) {
    all.reserve(entries_.size());
    for (const auto& e : entries_) all.push_back(e.get());
  }
  for (const Entry* e : candidates ? *candidates : all) {
    std::string ndn = NormalizeDn(e->dn());
    bool in_scope = false;
    switch (scope) {
      case Scope::kBase:
        in_scope = ndn == nbase;
        break;
      case Scope::kOneLevel:
        in_scope = NormalizeDn(ParentDn(e->dn())) == nbase && ndn != nbase;
        break;
      case Scope::kSubtree:
        in_scope = DnIsUnder(e->dn(), base);
        break;
    }
    if (!in_scope || !Matches(filter, *e)) continue;
    if (attributes.empty()) {
      out.push_back(*e);
    } else {
      Entry projected(e->dn());
      for (const auto& a : attributes) {
        if (e->Has(a)) projected.Set(a, e->Get(a));
      }
      out.push_back(std::move(projected));
    }
  }
  return out;
}

Status LdifDirectory::Add(const Entry& entry) {
  if (read_only_)
    return Status::Internal(fmt::format("{} is open read-only (add {})", url_, entry.dn()));
  auto lock = BeginWrite();
  if (!lock.ok()) return lock.status();
  std::string key = NormalizeDn(entry.dn());
  if (by_dn_.count(key)) return Status::AlreadyExists(fmt::format("{} already exists", entry.dn()));
  std::string parent = ParentDn(entry.dn());
  if (!parent.empty() && !by_dn_.count(NormalizeDn(parent))) {
    return Status::NotFound(
        fmt::format("cannot add {}: parent {} does not exist", entry.dn(), parent));
  }
  CM_RETURN_IF_ERROR(CheckEntry(entry, nullptr));
  auto owned = std::make_unique<Entry>(entry);
  by_dn_[key] = owned.get();
  index_.Index(owned.get());
  entries_.push_back(std::move(owned));
  Status s = Save();
  if (!s.ok()) {  // keep memory equal to the file
    by_dn_.erase(key);
    index_.Unindex(entries_.back().get());
    index_.Forget(entries_.back().get());
    text_.erase(entries_.back().get());
    entries_.pop_back();
  }
  return s;
}

Status LdifDirectory::Modify(std::string_view dn, const std::vector<Modification>& mods) {
  if (read_only_)
    return Status::Internal(fmt::format("{} is open read-only (modify {})", url_, dn));
  auto lock = BeginWrite();
  if (!lock.ok()) return lock.status();
  Entry* current = Find(dn);
  if (!current) return Status::NotFound(fmt::format("cannot modify {}: no such object", dn));
  Entry updated = *current;
  for (const auto& m : mods) {
    Values values = updated.Get(m.attribute);
    switch (m.op) {
      case Modification::Op::kAdd:
        for (const auto& v : m.values) {
          for (const auto& existing : values) {
            if (ValuesEqual(m.attribute, existing, v)) {
              return Status::Constraint(
                  fmt::format("{}: {} already has the value '{}'", dn, m.attribute, v));
            }
          }
          values.push_back(v);
        }
        break;
      case Modification::Op::kReplace:
        values = m.values;
        break;
      case Modification::Op::kDelete:
        if (!updated.Has(m.attribute)) {
          return Status::Constraint(
              fmt::format("{}: cannot delete {}: no such attribute", dn, m.attribute));
        }
        if (m.values.empty()) {
          values.clear();
        } else {
          for (const auto& v : m.values) {
            auto it = std::find_if(values.begin(), values.end(), [&](const std::string& x) {
              return ValuesEqual(m.attribute, x, v);
            });
            if (it == values.end()) {
              return Status::Constraint(
                  fmt::format("{}: cannot delete {} value '{}': not present", dn, m.attribute, v));
            }
            values.erase(it);
          }
        }
        break;
    }
    updated.Set(m.attribute, std::move(values));
  }
  CM_RETURN_IF_ERROR(CheckEntry(updated, current));
  index_.Unindex(current);
  text_.erase(current);
  Entry previous = std::move(*current);
  *current = std::move(updated);
  Status s = Save();
  if (!s.ok()) *current = std::move(previous);
  index_.Index(current);
  return s;
}

Status LdifDirectory::Delete(std::string_view dn) {
  if (read_only_)
    return Status::Internal(fmt::format("{} is open read-only (delete {})", url_, dn));
  auto lock = BeginWrite();
  if (!lock.ok()) return lock.status();
  std::string key = NormalizeDn(dn);
  auto it = by_dn_.find(key);
  if (it == by_dn_.end())
    return Status::NotFound(fmt::format("cannot delete {}: no such object", dn));
  if (index_.HasChildren(key))
    return Status::Constraint(fmt::format("cannot delete {}: it has children", dn));
  auto pos = std::find_if(entries_.begin(), entries_.end(),
                          [&](const auto& e) { return e.get() == it->second; });
  std::unique_ptr<Entry> removed = std::move(*pos);
  size_t index = static_cast<size_t>(pos - entries_.begin());
  entries_.erase(pos);
  by_dn_.erase(it);
  index_.Unindex(removed.get());
  Status s = Save();
  if (!s.ok()) {
    by_dn_[key] = removed.get();
    index_.Index(removed.get());
    entries_.insert(entries_.begin() + static_cast<long>(index), std::move(removed));
  } else {
    index_.Forget(removed.get());
    text_.erase(removed.get());
  }
  return s;
}

Status LdifDirectory::Rename(std::string_view dn, std::string_view new_rdn,
                             std::string_view new_superior) {
  if (read_only_)
    return Status::Internal(fmt::format("{} is open read-only (rename {})", url_, dn));
  auto lock = BeginWrite();
  if (!lock.ok()) return lock.status();
  Entry* current = Find(dn);
  if (!current) return Status::NotFound(fmt::format("cannot rename {}: no such object", dn));
  if (index_.HasChildren(NormalizeDn(dn)))
    return Status::Constraint(fmt::format("cannot rename {}: it has children", dn));
  std::string parent = new_superior.empty() ? ParentDn(dn) : std::string(new_superior);
  if (!parent.empty() && !Find(parent))
    return Status::NotFound(fmt::format("cannot move {}: {} does not exist", dn, parent));
  std::string new_dn = parent.empty() ? std::string(new_rdn) : std::string(new_rdn) + "," + parent;
  auto new_ava = LeadingAva(new_dn);
  auto old_ava = LeadingAva(dn);
  if (!new_ava.ok()) return new_ava.status();
  if (!DnEquals(new_dn, dn) && Find(new_dn))
    return Status::AlreadyExists(fmt::format("{} already exists", new_dn));
  Entry updated = *current;
  updated.set_dn(new_dn);
  Values old_values = updated.Get(old_ava->type);
  std::erase_if(old_values, [&](const std::string& v) {
    return ValuesEqual(old_ava->type, v, old_ava->value);
  });
  updated.Set(old_ava->type, old_values);
  Values values = updated.Get(new_ava->type);
  values.push_back(new_ava->value);
  updated.Set(new_ava->type, values);
  CM_RETURN_IF_ERROR(CheckEntry(updated, current));
  std::string old_key = NormalizeDn(dn);
  Entry previous = *current;
  index_.Unindex(current);
  text_.erase(current);
  *current = std::move(updated);
  by_dn_.erase(old_key);
  by_dn_[NormalizeDn(new_dn)] = current;
  Status s = Save();
  if (!s.ok()) {
    by_dn_.erase(NormalizeDn(new_dn));
    *current = std::move(previous);
    by_dn_[old_key] = current;
  }
  index_.Index(current);
  return s;
}

Status LdifDirectory::ApplyChangeFile(std::string_view text, std::string_view name) {
  auto records = ParseLdif(text, name);
  if (!records.ok()) return records.status();
  for (const auto& rec : *records) {
    Status s = Apply(rec.op);
    if (!s.ok()) return s.Annotate(fmt::format("{}:{}", name, rec.line));
  }
  return Status::Ok();
}

std::string LdifDirectory::Serialize() const {
  std::string out = "version: 1\n\n";
  size_t size = out.size();
  for (const auto& e : entries_) {
    auto [text, fresh] = text_.try_emplace(e.get());
    if (fresh) text->second = FormatEntry(*e);
    size += text->second.size();
  }
  out.reserve(size);
  for (const auto& e : entries_) out += text_.at(e.get());
  return out;
}

Status LdifDirectory::Save() {
  if (path_.empty()) return Status::Ok();
  // The file keeps its mode: whoever could read the directory before the move still can.
  struct stat st;
  unsigned mode = ::stat(path_.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
  CM_RETURN_IF_ERROR(WriteFileAtomically(path_, Serialize(), mode));
  // Still under the write lock, so the file is the one just written. When its version cannot
  // be read, the next operation reloads it: a wasted read, never a stale copy.
  auto written = VersionOf(path_);
  version_ = written.ok() ? *written : FileVersion{};
  return Status::Ok();
}

}  // namespace cm
