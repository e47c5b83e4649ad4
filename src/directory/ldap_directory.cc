#include "directory/ldap_directory.h"

#include <fmt/format.h>
#include <ldap.h>
#include <sasl/sasl.h>

#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/strings.h"
#include "directory/schema.h"

namespace cm {

namespace {

constexpr const char* kPagedResultsOid = LDAP_CONTROL_PAGEDRESULTS;  // RFC 2696
constexpr const char* kTxnStartOid = "1.3.6.1.1.21.1";               // RFC 5805
constexpr const char* kTxnSpecOid = "1.3.6.1.1.21.2";
constexpr const char* kActiveDirectoryOid = "1.2.840.113556.1.4.800";  // LDAP_CAP_ACTIVE_DIRECTORY

// Owners of libldap's C allocations, so no early return leaks one.
struct MessageFree {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using MessagePtr = std::unique_ptr<LDAPMessage, MessageFree>;
struct ControlFree {
  void operator()(LDAPControl* c) const { ldap_control_free(c); }
};
using ControlPtr = std::unique_ptr<LDAPControl, ControlFree>;
struct ControlsFree {
  void operator()(LDAPControl** c) const { ldap_controls_free(c); }
};
using ControlsPtr = std::unique_ptr<LDAPControl*, ControlsFree>;
struct BervalFree {
  void operator()(berval* b) const { ber_bvfree(b); }
};
using BervalPtr = std::unique_ptr<berval, BervalFree>;
struct MemFree {
  void operator()(void* p) const { ldap_memfree(p); }
};
using LdapString = std::unique_ptr<char, MemFree>;

std::string Str(const char* s) { return s ? s : ""; }

// "ldap://h:389/DC=x,DC=y" -> server "ldap://h:389", base "DC=x,DC=y" (percent-decoded).
// ldapi paths are %2F-escaped, so the first raw '/' after the authority starts the DN.
bool SplitUrl(std::string_view url, std::string* server, std::string* base) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  size_t slash = url.find('/', scheme_end + 3);
  *server = std::string(url.substr(0, slash));
  base->clear();
  if (slash == std::string_view::npos) return true;
  std::string_view rest = url.substr(slash + 1);
  auto decoded = PercentDecode(rest.substr(0, rest.find('?')));
  if (!decoded) return false;
  *base = std::move(*decoded);
  return true;
}

Status::Code CodeOf(int rc) {
  switch (rc) {
    case LDAP_NO_SUCH_OBJECT:
      return Status::Code::kNotFound;
    case LDAP_ALREADY_EXISTS:
      return Status::Code::kAlreadyExists;
    case LDAP_CONSTRAINT_VIOLATION:
    case LDAP_OBJECT_CLASS_VIOLATION:
    case LDAP_TYPE_OR_VALUE_EXISTS:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_INVALID_SYNTAX:
    case LDAP_NOT_ALLOWED_ON_NONLEAF:
    case LDAP_NOT_ALLOWED_ON_RDN:
    case LDAP_NO_SUCH_ATTRIBUTE:
    case LDAP_NAMING_VIOLATION:
    case LDAP_UNWILLING_TO_PERFORM:
    case LDAP_INAPPROPRIATE_MATCHING:
    case LDAP_ADMINLIMIT_EXCEEDED:
      return Status::Code::kConstraint;
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_INVALID_CREDENTIALS:
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_CONFIDENTIALITY_REQUIRED:
      return Status::Code::kPermissionDenied;
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
    case LDAP_TIMEOUT:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
      return Status::Code::kUnavailable;
    case LDAP_INVALID_DN_SYNTAX:
    case LDAP_FILTER_ERROR:
      return Status::Code::kInvalidInput;
    default:
      return Status::Code::kInternal;
  }
}

Status MakeStatus(Status::Code code, std::string message) {
  switch (code) {
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(message));
    case Status::Code::kAlreadyExists:
      return Status::AlreadyExists(std::move(message));
    case Status::Code::kConstraint:
      return Status::Constraint(std::move(message));
    case Status::Code::kPermissionDenied:
      return Status::PermissionDenied(std::move(message));
    case Status::Code::kUnavailable:
      return Status::Unavailable(std::move(message));
    case Status::Code::kInvalidInput:
      return Status::InvalidInput(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

// SASL asks for values (authzid, realm ...): every answer is its default, or the configured
// authorization identity for SASL_CB_USER. EXTERNAL and GSSAPI need nothing else.
struct SaslDefaults {
  std::string authzid;
};
int SaslInteract(LDAP*, unsigned, void* defaults, void* in) {
  auto* d = static_cast<SaslDefaults*>(defaults);
  for (auto* i = static_cast<sasl_interact_t*>(in); i->id != SASL_CB_LIST_END; ++i) {
    const char* value = i->defresult ? i->defresult : "";
    if (i->id == SASL_CB_USER && !d->authzid.empty()) value = d->authzid.c_str();
    i->result = value;
    i->len = static_cast<unsigned>(strlen(value));
  }
  return LDAP_SUCCESS;
}

// One LDAPMod array with its values, alive as long as this object.
class ModArray {
 public:
  void Add(int op, const std::string& attribute, const Values& values) {
    auto& m = mods_.emplace_back(std::make_unique<LDAPMod>());
    auto& vals = values_.emplace_back();
    auto& ptrs = pointers_.emplace_back();
    names_.push_back(std::make_unique<std::string>(attribute));
    for (const auto& v : values) {
      vals.push_back({static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
    }
    for (auto& v : vals) ptrs.push_back(&v);
    ptrs.push_back(nullptr);
    m->mod_op = op | LDAP_MOD_BVALUES;
    m->mod_type = names_.back()->data();
    m->mod_bvalues = values.empty() ? nullptr : ptrs.data();
  }
  LDAPMod** get() {
    array_.clear();
    for (auto& m : mods_) array_.push_back(m.get());
    array_.push_back(nullptr);
    return array_.data();
  }

 private:
  std::vector<std::unique_ptr<LDAPMod>> mods_;
  std::vector<std::unique_ptr<std::string>> names_;
  std::vector<std::vector<berval>> values_;
  std::vector<std::vector<berval*>> pointers_;
  std::vector<LDAPMod*> array_;
};

// "member;range=0-1499" -> ("member", 1499); without a range option the end is -2; "*" is -1.
std::pair<std::string, long> SplitRange(const std::string& name) {
  size_t at = name.find(";range=");
  if (at == std::string::npos) return {name, -2};
  std::string_view range = std::string_view(name).substr(at + 7);
  size_t dash = range.find('-');
  std::string_view end = dash == std::string_view::npos ? "" : range.substr(dash + 1);
  long last = -1;
  if (end != "*") {
    auto [p, ec] = std::from_chars(end.data(), end.data() + end.size(), last);
    if (ec != std::errc()) last = -1;
  }
  return {name.substr(0, at), last};
}

int ScopeOf(Scope scope) {
  switch (scope) {
    case Scope::kBase:
      return LDAP_SCOPE_BASE;
    case Scope::kOneLevel:
      return LDAP_SCOPE_ONELEVEL;
    case Scope::kSubtree:
      return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_SUBTREE;
}

}  // namespace

// One connection of the pool for the duration of a call; a connection the server dropped is
// closed instead of going back.
class LdapLease {
 public:
  explicit LdapLease(LdapDirectory& dir) : dir_(dir) {
    {
      std::lock_guard lock(dir_.pool_mu_);
      if (!dir_.idle_.empty()) {
        ld_ = dir_.idle_.back();
        dir_.idle_.pop_back();
        return;
      }
    }
    auto fresh = dir_.Connect();
    if (fresh.ok()) {
      ld_ = *fresh;
    } else {
      status_ = fresh.status();
    }
  }
  ~LdapLease() {
    if (!ld_) return;
    if (broken_) {
      ldap_unbind_ext_s(ld_, nullptr, nullptr);
      return;
    }
    std::lock_guard lock(dir_.pool_mu_);
    dir_.idle_.push_back(ld_);
  }
  LdapLease(const LdapLease&) = delete;
  LdapLease& operator=(const LdapLease&) = delete;
  bool ok() const { return ld_ != nullptr; }
  const Status& status() const { return status_; }
  LDAP* get() const { return ld_; }
  // Passes a result through; a connection the server dropped is not reused.
  Status Check(Status s) {
    if (s.code() == Status::Code::kUnavailable) broken_ = true;
    return s;
  }

 private:
  LdapDirectory& dir_;
  LDAP* ld_ = nullptr;
  bool broken_ = false;
  Status status_;
};

Result<std::unique_ptr<LdapDirectory>> LdapDirectory::Open(std::string_view url,
                                                           const DirectoryOptions& options) {
  std::unique_ptr<LdapDirectory> dir(new LdapDirectory());
  dir->url_ = std::string(url);
  dir->options_ = options;
  // ldap_is_ldap_url accepts ldap://, ldaps:// and ldapi:// alike.
  if (!SplitUrl(url, &dir->server_, &dir->base_dn_) || !ldap_is_ldap_url(dir->server_.c_str())) {
    return Status::InvalidInput(fmt::format("directory URL '{}' is not an LDAP URL", url));
  }
  auto first = dir->Connect();
  if (!first.ok()) return first.status();
  dir->idle_.push_back(*first);
  LdapLease lease(*dir);
  if (!lease.ok()) return lease.status();
  CM_RETURN_IF_ERROR(dir->ReadRootDse(lease.get()));
  return dir;
}

LdapDirectory::~LdapDirectory() {
  for (LDAP* ld : idle_) ldap_unbind_ext_s(ld, nullptr, nullptr);
}

Status LdapDirectory::Failure(LDAP* ld, int rc, std::string_view operation, std::string_view dn,
                              const std::string& diagnostic) const {
  std::string detail = diagnostic;
  if (detail.empty() && ld) {
    char* msg = nullptr;
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS && msg) {
      detail = msg;
      ldap_memfree(msg);
    }
  }
  bool tls = options_.connection.start_tls || IStartsWith(server_, "ldaps://");
  if (tls && (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && !detail.empty() &&
      detail.find("certificate") == std::string::npos) {
    // GnuTLS (Debian's libldap) reports an untrusted certificate as "(unknown error code)".
    detail +=
        "; if the TLS handshake failed, the server's certificate may not be trusted: "
        "name its CA with ca-file (tls-verify = false only for a lab)";
  }
  std::string target = dn.empty() ? "" : fmt::format(" '{}'", dn);
  return MakeStatus(CodeOf(rc),
                    fmt::format("{}: {}{}: {} (LDAP result {}){}", server_, operation, target,
                                ldap_err2string(rc), rc, detail.empty() ? "" : ": " + detail));
}

Result<LDAP*> LdapDirectory::Connect() {
  const DirectoryConnection& c = options_.connection;
  LDAP* ld = nullptr;
  int rc = ldap_initialize(&ld, server_.c_str());
  if (rc != LDAP_SUCCESS) return Failure(nullptr, rc, "connect", "");
  // Closed on every early return below.
  std::unique_ptr<LDAP, void (*)(LDAP*)> owner(
      ld, [](LDAP* l) { ldap_unbind_ext_s(l, nullptr, nullptr); });
  int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  // AD hands out referrals to other partitions (CN=Configuration, DomainDnsZones); following
  // them would bind elsewhere with our credential. They are not our objects: off.
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  timeval timeout{c.timeout_seconds, 0};
  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout);
  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout);
  int require = c.tls_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require);
  if (!c.ca_file.empty()) ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c.ca_file.c_str());
  int is_server = 0;
  ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
  bool tls = c.start_tls || IStartsWith(server_, "ldaps://");
  if (tls && !c.tls_verify) {
    fmt::print(stderr, "warning: {}: TLS certificate verification is off (tls-verify = false)\n",
               server_);
  }
  if (c.start_tls) {
    rc = ldap_start_tls_s(ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) return Failure(ld, rc, "StartTLS", "");
  }
  if (c.sasl_mech.empty()) {
    berval cred{static_cast<ber_len_t>(options_.secret.size()),
                const_cast<char*>(options_.secret.data())};
    rc = ldap_sasl_bind_s(ld, options_.bind_identity.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr,
                          nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      return Failure(ld, rc, options_.bind_identity.empty() ? "anonymous bind" : "bind as",
                     options_.bind_identity);
    }
  } else {
    SaslDefaults defaults{options_.bind_identity};
    rc = ldap_sasl_interactive_bind_s(ld, nullptr, c.sasl_mech.c_str(), nullptr, nullptr,
                                      LDAP_SASL_QUIET, SaslInteract, &defaults);
    if (rc != LDAP_SUCCESS) return Failure(ld, rc, "SASL " + c.sasl_mech + " bind", "");
  }
  return owner.release();
}

bool LdapDirectory::IsServerManaged(std::string_view attribute) const {
  return active_directory_ && IsActiveDirectoryManaged(attribute);
}

Status LdapDirectory::ReadRootDse(LDAP* ld) {
  auto root = SearchOn(ld, "", Scope::kBase, "(objectClass=*)",
                       {"defaultNamingContext", "namingContexts", "supportedControl",
                        "supportedExtension", "supportedCapabilities"});
  if (!root.ok()) return root.status();
  if (root->empty()) return Status::Unavailable(fmt::format("{}: no rootDSE", server_));
  const Entry& dse = root->front();
  if (base_dn_.empty()) base_dn_ = dse.First("defaultNamingContext");
  if (base_dn_.empty()) base_dn_ = dse.First("namingContexts");
  if (base_dn_.empty()) {
    return Status::InvalidInput(fmt::format(
        "{}: the server names no naming context; put the base in the URL ({}/DC=example,DC=com)",
        server_, server_));
  }
  supports_paging_ = false;
  for (const auto& oid : dse.Get("supportedControl")) supports_paging_ |= oid == kPagedResultsOid;
  for (const auto& oid : dse.Get("supportedExtension"))
    supports_transactions_ |= oid == kTxnStartOid;
  for (const auto& oid : dse.Get("supportedCapabilities"))
    active_directory_ |= oid == kActiveDirectoryOid;
  return Status::Ok();
}

Result<std::vector<Entry>> LdapDirectory::Search(std::string_view base, Scope scope,
                                                 const Filter& filter,
                                                 const std::vector<std::string>& attributes) {
  // A lost connection is retried once on a new one: a search changes nothing.
  for (int attempt = 0;; ++attempt) {
    LdapLease lease(*this);
    if (!lease.ok()) return lease.status();
    auto found = SearchOn(lease.get(), base, scope, filter.ToString(), attributes);
    lease.Check(found.status());
    if (found.ok() || found.status().code() != Status::Code::kUnavailable || attempt > 0)
      return found;
  }
}

Result<std::vector<Entry>> LdapDirectory::SearchOn(LDAP* ld, std::string_view base, Scope scope,
                                                   const std::string& filter,
                                                   const std::vector<std::string>& attributes) {
  std::vector<char*> attrs;
  for (const auto& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  std::string base_dn(base);
  std::vector<Entry> out;
  berval cookie{0, nullptr};
  BervalPtr cookie_owner;
  timeval timeout{options_.connection.timeout_seconds, 0};
  int pages = 0;
  // Every search is paged (RFC 2696): Active Directory returns at most MaxPageSize (1,000)
  // entries to an unpaged search and calls that success.
  bool paged = supports_paging_ && scope != Scope::kBase;
  while (true) {
    LDAPControl* page = nullptr;
    ControlPtr page_owner;
    if (paged) {
      int rc = ldap_create_page_control(ld, options_.connection.page_size, &cookie, 0, &page);
      if (rc != LDAP_SUCCESS) return Failure(ld, rc, "search", base_dn);
      page_owner.reset(page);
    }
    LDAPControl* server_controls[] = {page, nullptr};
    LDAPMessage* raw = nullptr;
    int rc = ldap_search_ext_s(ld, base_dn.c_str(), ScopeOf(scope), filter.c_str(),
                               attributes.empty() ? nullptr : attrs.data(), 0,
                               paged ? server_controls : nullptr, nullptr, &timeout, LDAP_NO_LIMIT,
                               &raw);
    MessagePtr result(raw);
    if (rc != LDAP_SUCCESS && !raw) {
      return Failure(ld, rc, fmt::format("search {} in", filter), base_dn);
    }
    ++pages;
    for (LDAPMessage* m = ldap_first_message(ld, raw); m; m = ldap_next_message(ld, m)) {
      int type = ldap_msgtype(m);
      if (type == LDAP_RES_SEARCH_REFERENCE) continue;  // other partitions: not followed
      if (type == LDAP_RES_SEARCH_RESULT) {
        int code = LDAP_SUCCESS;
        char* diagnostic = nullptr;
        LDAPControl** controls = nullptr;
        int prc = ldap_parse_result(ld, m, &code, nullptr, &diagnostic, nullptr, &controls, 0);
        ControlsPtr controls_owner(controls);
        LdapString diagnostic_owner(diagnostic);
        if (prc != LDAP_SUCCESS) return Failure(ld, prc, "search", base_dn);
        if (code == LDAP_NO_SUCH_OBJECT && scope == Scope::kBase) return out;
        if (code != LDAP_SUCCESS) {
          return Failure(ld, code, fmt::format("search {} in", filter), base_dn, Str(diagnostic));
        }
        cookie = {0, nullptr};
        cookie_owner.reset();
        if (paged && controls) {
          LDAPControl* response = ldap_control_find(kPagedResultsOid, controls, nullptr);
          if (response) {
            ber_int_t estimate = 0;
            berval next{0, nullptr};
            if (ldap_parse_pageresponse_control(ld, response, &estimate, &next) == LDAP_SUCCESS &&
                next.bv_len > 0) {
              cookie_owner.reset(ber_bvdup(&next));
              cookie = *cookie_owner;
            }
            ber_memfree(next.bv_val);
          }
        }
        continue;
      }
      if (type != LDAP_RES_SEARCH_ENTRY) continue;
      LdapString dn(ldap_get_dn(ld, m));
      Entry entry(Str(dn.get()));
      BerElement* ber = nullptr;
      bool ranged = false;
      for (char* a = ldap_first_attribute(ld, m, &ber); a; a = ldap_next_attribute(ld, m, ber)) {
        LdapString name(a);
        berval** values = ldap_get_values_len(ld, m, a);
        if (SplitRange(a).second != -2) ranged = true;
        for (int i = 0; values && values[i]; ++i)
          entry.Add(a, std::string(values[i]->bv_val, values[i]->bv_len));
        ldap_value_free_len(values);
      }
      if (ber) ber_free(ber, 0);
      if (ranged) CM_RETURN_IF_ERROR(FetchRanges(ld, entry));
      out.push_back(std::move(entry));
    }
    if (!paged || cookie.bv_len == 0) break;
  }
  last_search_pages_ = pages;
  return out;
}

// Active Directory returns a large multi-valued attribute in slices ("member;range=0-1499");
// each further slice is asked for by name until the server answers with an end of "*".
Status LdapDirectory::FetchRanges(LDAP* ld, Entry& entry) {
  std::vector<std::pair<std::string, std::string>> pending;  // full name, attribute
  for (const auto& [name, values] : entry.attributes()) {
    auto [attr, last] = SplitRange(name);
    if (last >= 0) pending.push_back({name, attr});
  }
  for (const auto& [slice, attr] : pending) {
    Values all = entry.Get(slice);
    long last = SplitRange(slice).second;
    while (last >= 0) {
      std::string next = fmt::format("{};range={}-*", attr, last + 1);
      auto part = SearchOn(ld, entry.dn(), Scope::kBase, "(objectClass=*)", {next});
      if (!part.ok()) return part.status();
      if (part->empty()) break;
      last = -1;
      for (const auto& [name, values] : part->front().attributes()) {
        auto [a, end] = SplitRange(name);
        if (!IEquals(a, attr)) continue;
        all.insert(all.end(), values.begin(), values.end());
        last = end;
      }
    }
    entry.Remove(slice);
    entry.Set(attr, std::move(all));
  }
  return Status::Ok();
}

Status LdapDirectory::CheckWritable(std::string_view operation, std::string_view dn) const {
  if (!options_.read_only) return Status::Ok();
  return Status::Internal(fmt::format("{}: {} '{}' refused: the directory was opened read-only",
                                      server_, operation, dn));
}

Status LdapDirectory::Write(LDAP* ld, const DirectoryOp& op, void* txn_control) {
  LDAPControl* controls[] = {static_cast<LDAPControl*>(txn_control), nullptr};
  LDAPControl** server_controls = txn_control ? controls : nullptr;
  int rc = LDAP_SUCCESS;
  std::string_view what;
  switch (op.kind) {
    case DirectoryOp::Kind::kAdd: {
      what = "add";
      ModArray mods;
      for (const auto& m : op.mods) mods.Add(LDAP_MOD_ADD, m.attribute, m.values);
      rc = ldap_add_ext_s(ld, op.dn.c_str(), mods.get(), server_controls, nullptr);
      break;
    }
    case DirectoryOp::Kind::kModify: {
      what = "modify";
      ModArray mods;
      for (const auto& m : op.mods) {
        int kind = m.op == Modification::Op::kAdd       ? LDAP_MOD_ADD
                   : m.op == Modification::Op::kReplace ? LDAP_MOD_REPLACE
                                                        : LDAP_MOD_DELETE;
        mods.Add(kind, m.attribute, m.values);
      }
      rc = ldap_modify_ext_s(ld, op.dn.c_str(), mods.get(), server_controls, nullptr);
      break;
    }
    case DirectoryOp::Kind::kDelete:
      what = "delete";
      rc = ldap_delete_ext_s(ld, op.dn.c_str(), server_controls, nullptr);
      break;
    case DirectoryOp::Kind::kRename:
      what = "rename";
      rc = ldap_rename_s(ld, op.dn.c_str(), op.new_rdn.c_str(),
                         op.new_superior.empty() ? nullptr : op.new_superior.c_str(), 1,
                         server_controls, nullptr);
      break;
  }
  if (rc != LDAP_SUCCESS) return Failure(ld, rc, what, op.dn);
  return Status::Ok();
}

Status LdapDirectory::Add(const Entry& entry) {
  CM_RETURN_IF_ERROR(CheckWritable("add", entry.dn()));
  DirectoryOp op{Side::kSource, DirectoryOp::Kind::kAdd, entry.dn(), {}, "", "", ""};
  for (const auto& [attr, values] : entry.attributes())
    op.mods.push_back({Modification::Op::kAdd, attr, values});
  return ApplyOne(op);
}

Status LdapDirectory::Modify(std::string_view dn, const std::vector<Modification>& mods) {
  CM_RETURN_IF_ERROR(CheckWritable("modify", dn));
  return ApplyOne({Side::kSource, DirectoryOp::Kind::kModify, std::string(dn), mods, "", "", ""});
}

Status LdapDirectory::Delete(std::string_view dn) {
  CM_RETURN_IF_ERROR(CheckWritable("delete", dn));
  return ApplyOne({Side::kSource, DirectoryOp::Kind::kDelete, std::string(dn), {}, "", "", ""});
}

Status LdapDirectory::Rename(std::string_view dn, std::string_view new_rdn,
                             std::string_view new_superior) {
  CM_RETURN_IF_ERROR(CheckWritable("rename", dn));
  return ApplyOne({Side::kSource,
                   DirectoryOp::Kind::kRename,
                   std::string(dn),
                   {},
                   std::string(new_rdn),
                   std::string(new_superior),
                   ""});
}

Status LdapDirectory::ApplyOne(const DirectoryOp& op) {
  LdapLease lease(*this);
  if (!lease.ok()) return lease.status();
  return lease.Check(Write(lease.get(), op, nullptr));
}

// RFC 5805: start a transaction, send every update with its specification control, commit. The
// server applies them all or none; an abort leaves the directory as it was.
Status LdapDirectory::ApplyAtomically(const std::vector<DirectoryOp>& ops) {
  for (const auto& op : ops) CM_RETURN_IF_ERROR(CheckWritable(ToString(op.kind), op.dn));
  LdapLease lease(*this);
  if (!lease.ok()) return lease.status();
  LDAP* ld = lease.get();
  berval* raw_id = nullptr;
  int rc = ldap_txn_start_s(ld, nullptr, nullptr, &raw_id);
  BervalPtr txn_id(raw_id);
  if (rc != LDAP_SUCCESS || !raw_id) return lease.Check(Failure(ld, rc, "start transaction", ""));
  LDAPControl* spec = nullptr;
  rc = ldap_control_create(kTxnSpecOid, 1, txn_id.get(), 1, &spec);
  ControlPtr spec_owner(spec);
  if (rc != LDAP_SUCCESS) return Failure(ld, rc, "start transaction", "");
  for (const auto& op : ops) {
    Status s = Write(ld, op, spec);
    if (!s.ok()) {
      int ignored = 0;
      ldap_txn_end_s(ld, 0, txn_id.get(), nullptr, nullptr, &ignored);
      return lease.Check(s);
    }
  }
  int failed_message = 0;
  rc = ldap_txn_end_s(ld, 1, txn_id.get(), nullptr, nullptr, &failed_message);
  if (rc != LDAP_SUCCESS)
    return lease.Check(Failure(ld, rc, "commit transaction of", ops.front().dn));
  return Status::Ok();
}

}  // namespace cm
