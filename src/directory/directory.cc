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
