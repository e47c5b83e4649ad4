// The one seam every directory backend sits behind (LevelDB's Env idea): `ldif:` now, `ldap:`
// (OpenLDAP, Active Directory) next. Callers never build filter or DN strings by hand: filters
// are cm::Filter trees, DNs come from MakeDn, so escaping is the backend's job and done once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/directory_op.h"
#include "core/entry.h"
#include "core/filter.h"
#include "core/status.h"

namespace cm {

enum class Scope { kBase, kOneLevel, kSubtree };

class Directory {
 public:
  virtual ~Directory() = default;

  // The URL it was opened with (never holds a secret).
  virtual const std::string& url() const = 0;
  // The naming context searches default to ("dc=source,dc=test").
  virtual std::string base_dn() const = 0;

  // Every matching object with every value of the requested attributes (all when empty).
  virtual Result<std::vector<Entry>> Search(std::string_view base, Scope scope,
                                            const Filter& filter,
                                            const std::vector<std::string>& attributes = {}) = 0;
  // Each write is atomic: it happens whole or not at all.
  virtual Status Add(const Entry& entry) = 0;
  virtual Status Modify(std::string_view dn, const std::vector<Modification>& mods) = 0;
  virtual Status Delete(std::string_view dn) = 0;
  // Moves/renames a leaf; new_superior "" keeps the parent. The old RDN value is removed.
  virtual Status Rename(std::string_view dn, std::string_view new_rdn,
                        std::string_view new_superior) = 0;

  // Whether the server maintains `attribute` itself and refuses it from a client (Active
  // Directory's objectSid, whenChanged ...): such values are journaled but never written back.
  virtual bool IsServerManaged(std::string_view /*attribute*/) const { return false; }

  // Whether calls may come from several threads at once (the LDAP backend holds a pool of
  // connections; the LDIF file is one object in memory).
  virtual bool IsThreadSafe() const { return false; }

  // RFC 5805 transactions: several operations applied all or none (OpenLDAP advertises them,
  // Active Directory does not). Callers check CanApplyAtomically and otherwise apply in order.
  virtual bool CanApplyAtomically() const { return false; }
  virtual Status ApplyAtomically(const std::vector<DirectoryOp>& ops);

  // One object with every attribute; NotFound when absent.
  Result<Entry> Read(std::string_view dn);
  // Applies one planned operation.
  Status Apply(const DirectoryOp& op);
};

// How to reach an LDAP server (ignored by ldif:). Certificate verification is on unless an
// administrator turns it off, and then every connection says so on stderr.
struct DirectoryConnection {
  std::string sasl_mech;  // "" = simple bind (anonymous without an identity)
  bool start_tls = false;
  bool tls_verify = true;
  std::string ca_file;
  int timeout_seconds = 30;
  int page_size = 500;  // below AD's MaxPageSize of 1,000
  // Whether calls may come from several threads at once (the LDAP backend holds a pool of
  // connections; the LDIF file is one object in memory).
  virtual bool IsThreadSafe() const { return false; }

  // RFC 5805 transactions where the server offers them. Off by default: slapd 2.5.13 (Debian 12)
  // failed transactions that delete a user and add its contact (MDB_NOTFOUND) and once crashed
  // committing one, under the test suite's load (docs/DIRECTORIES.md).
  bool transactions = false;
};

struct DirectoryOptions {
  bool read_only = false;  // `plan`, `export`, `--dry-run`: a write is an internal error
  std::string bind_identity;
  std::string secret;  // never logged
  DirectoryConnection connection;
};

// `ldif:PATH` (relative paths are taken from the working directory), `ldap://HOST:PORT`,
// `ldaps://HOST:PORT`, `ldapi://PATH-ESCAPED`. An LDAP URL may end in "/BASE-DN" to name the
// naming context instead of reading it from the rootDSE.
Result<std::unique_ptr<Directory>> OpenDirectory(std::string_view url,
                                                 const DirectoryOptions& options);

// Searches go to `gc`; writes, and reads of one object, to `dc` (SPEC §2).
std::unique_ptr<Directory> SplitReadsAndWrites(std::unique_ptr<Directory> gc,
                                               std::unique_ptr<Directory> dc);

}  // namespace cm
