#include "directory/directory.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "directory/ldap_directory.h"
#include "directory/ldif_directory.h"

namespace cm {

Result<Entry> Directory::Read(std::string_view dn) {
  auto found = Search(dn, Scope::kBase, Filter::Present("objectClass"));
  if (!found.ok()) {
    if (found.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(fmt::format("{} does not exist", dn));
    }
    return found.status();
  }
  if (found->empty()) return Status::NotFound(fmt::format("{} does not exist", dn));
  return std::move(found->front());
}

Status Directory::Apply(const DirectoryOp& op) {
  switch (op.kind) {
    case DirectoryOp::Kind::kAdd:
      return Add(op.AsEntry());
    case DirectoryOp::Kind::kModify:
      return Modify(op.dn, op.mods);
    case DirectoryOp::Kind::kDelete:
      return Delete(op.dn);
    case DirectoryOp::Kind::kRename:
      return Rename(op.dn, op.new_rdn, op.new_superior);
  }
  return Status::Internal("unknown operation");
}

Status Directory::ApplyAtomically(const std::vector<DirectoryOp>&) {
  return Status::Internal(fmt::format("{}: the directory has no transactions", url()));
}

namespace {

// SPEC §2: searches go to the global catalog, writes to the domain controller. Reads of one
// object (base scope) go to the DC as well: they check what a write just did, and a GC may not
// have replicated it yet.
class SplitDirectory : public Directory {
 public:
  SplitDirectory(std::unique_ptr<Directory> gc, std::unique_ptr<Directory> dc)
      : gc_(std::move(gc)), dc_(std::move(dc)) {}
  const std::string& url() const override { return dc_->url(); }
  std::string base_dn() const override { return gc_->base_dn(); }
  Result<std::vector<Entry>> Search(std::string_view base, Scope scope, const Filter& filter,
                                    const std::vector<std::string>& attributes) override {
    return (scope == Scope::kBase ? dc_ : gc_)->Search(base, scope, filter, attributes);
  }
  Status Add(const Entry& entry) override { return dc_->Add(entry); }
  Status Modify(std::string_view dn, const std::vector<Modification>& mods) override {
    return dc_->Modify(dn, mods);
  }
  Status Delete(std::string_view dn) override { return dc_->Delete(dn); }
  Status Rename(std::string_view dn, std::string_view new_rdn,
                std::string_view new_superior) override {
    return dc_->Rename(dn, new_rdn, new_superior);
  }
  bool IsServerManaged(std::string_view attribute) const override {
    return dc_->IsServerManaged(attribute);
  }
  bool IsThreadSafe() const override { return gc_->IsThreadSafe() && dc_->IsThreadSafe(); }
  bool CanApplyAtomically() const override { return dc_->CanApplyAtomically(); }
  Status ApplyAtomically(const std::vector<DirectoryOp>& ops) override {
    return dc_->ApplyAtomically(ops);
  }

 private:
  std::unique_ptr<Directory> gc_, dc_;
};

}  // namespace

std::unique_ptr<Directory> SplitReadsAndWrites(std::unique_ptr<Directory> gc,
                                               std::unique_ptr<Directory> dc) {
  return std::make_unique<SplitDirectory>(std::move(gc), std::move(dc));
}

Result<std::unique_ptr<Directory>> OpenDirectory(std::string_view url,
                                                 const DirectoryOptions& options) {
  if (IStartsWith(url, "ldif:")) {
    std::string path(url.substr(5));
    if (path.starts_with("//")) path = path.substr(2);  // ldif:///abs/path
    if (path.empty())
      return Status::InvalidInput(fmt::format("directory URL '{}' has no file path", url));
    auto dir = LdifDirectory::Open(path, options.read_only);
    if (!dir.ok()) return dir.status();
    return std::unique_ptr<Directory>(std::move(*dir));
  }
  if (IStartsWith(url, "ldap://") || IStartsWith(url, "ldaps://") || IStartsWith(url, "ldapi://")) {
    auto dir = LdapDirectory::Open(url, options);
    if (!dir.ok()) return dir.status();
    return std::unique_ptr<Directory>(std::move(*dir));
  }
  return Status::InvalidInput(fmt::format(
      "directory URL '{}': unknown scheme (expected ldif:, ldap://, ldaps://, ldapi://)", url));
}

}  // namespace cm
