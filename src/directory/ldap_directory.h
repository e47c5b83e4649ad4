// The `ldap:` / `ldaps:` / `ldapi:` backend: OpenLDAP and Active Directory (Samba AD) behind
// the Directory seam, on libldap. libldap's C handles live in this file only, owned by RAII
// wrappers; every failure becomes a Status naming the server, the operation, the DN and the LDAP
// result code.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "directory/directory.h"

typedef struct ldap LDAP;

namespace cm {

class LdapDirectory : public Directory {
 public:
  static Result<std::unique_ptr<LdapDirectory>> Open(std::string_view url,
                                                     const DirectoryOptions& options);
  ~LdapDirectory() override;

  const std::string& url() const override { return url_; }
  std::string base_dn() const override { return base_dn_; }
  Result<std::vector<Entry>> Search(std::string_view base, Scope scope, const Filter& filter,
                                    const std::vector<std::string>& attributes = {}) override;
  Status Add(const Entry& entry) override;
  Status Modify(std::string_view dn, const std::vector<Modification>& mods) override;
  Status Delete(std::string_view dn) override;
  Status Rename(std::string_view dn, std::string_view new_rdn,
                std::string_view new_superior) override;
  bool IsServerManaged(std::string_view attribute) const override;
  bool IsThreadSafe() const override { return true; }
  bool CanApplyAtomically() const override {
    return supports_transactions_ && options_.connection.transactions;
  }
  Status ApplyAtomically(const std::vector<DirectoryOp>& ops) override;

  // Pages the last Search took (tests prove paging with it).
  int last_search_pages() const { return last_search_pages_; }

 private:
  friend class LdapLease;
  LdapDirectory() = default;
  // A new connection, bound; errors name the server and the bind.
  Result<LDAP*> Connect();
  Status ReadRootDse(LDAP* ld);
  Status Failure(LDAP* ld, int rc, std::string_view operation, std::string_view dn,
                 const std::string& diagnostic = "") const;
  Result<std::vector<Entry>> SearchOn(LDAP* ld, std::string_view base, Scope scope,
                                      const std::string& filter,
                                      const std::vector<std::string>& attributes);
  Status FetchRanges(LDAP* ld, Entry& entry);
  Status Write(LDAP* ld, const DirectoryOp& op, void* txn_control);
  Status ApplyOne(const DirectoryOp& op);
  Status CheckWritable(std::string_view operation, std::string_view dn) const;

  std::string url_;      // as configured, with the base
  std::string server_;   // scheme://host:port, what libldap connects to
  std::string base_dn_;  // from the URL or the rootDSE
  DirectoryOptions options_;
  // Bound connections not in use. Each call takes one (or opens one) for its duration, so the
  // parallel workers of a run talk to the server at the same time.
  std::mutex pool_mu_;
  std::vector<LDAP*> idle_;
  bool supports_paging_ = true;
  bool supports_transactions_ = false;
  bool active_directory_ = false;  // the rootDSE names AD's capabilities
  std::atomic<int> last_search_pages_ = 0;
};

}  // namespace cm
