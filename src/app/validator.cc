#include "app/validator.h"

#include <fmt/format.h>

#include <map>

#include "app/identity_resolver.h"
#include "core/address_template.h"
#include "core/dn.h"
#include "core/proxy_address.h"
#include "core/smtp.h"
#include "core/strings.h"
#include "core/timestamp.h"

namespace cm {

namespace {

Problem Param(std::string key, std::string message) {
  return {"", 0, std::move(key), std::move(message)};
}

bool Exists(Directory& dir, std::string_view dn) { return dir.Read(dn).ok(); }

// Every name and address the target already uses, so generated ones are unique.
void LoadTargetNames(Organizations& orgs, const AttributeProfile& p, NameRegistry& names,
                     Problems& problems) {
  auto all = orgs.target->Search(orgs.target_base, Scope::kSubtree, Filter::Present("objectClass"),
                                 {p.sam_account_name, p.proxy_addresses, p.legacy_dn, p.mail});
  if (!all.ok()) {
    problems.push_back(Param("target.gc", all.status().message()));
    return;
  }
  for (const Entry& e : *all) {
    names.target_dns.insert(NormalizeDn(e.dn()));
    if (e.Has(p.sam_account_name)) names.target_sam_names.insert(e.First(p.sam_account_name));
    if (e.Has(p.legacy_dn)) names.target_legacy_dns.insert(e.First(p.legacy_dn));
    for (const auto& m : e.Get(p.mail)) names.target_smtp_addresses.insert(m);
    for (const auto& v : e.Get(p.proxy_addresses)) {
      auto proxy = ProxyAddress::Parse(v);
      if (proxy.ok() && proxy->IsSmtp()) names.target_smtp_addresses.insert(proxy->address());
      if (proxy.ok() && proxy->IsX500()) names.target_legacy_dns.insert(proxy->address());
    }
  }
}

// The /o= of an existing legacyExchangeDN ("/o=Contoso/ou=..." -> "Contoso").
std::string OrgNameFrom(const NameRegistry& names) {
  for (const auto& dn : names.target_legacy_dns) {
    if (IStartsWith(dn, "/o=")) {
      size_t end = dn.find('/', 3);
      return dn.substr(3, end == std::string::npos ? std::string::npos : end - 3);
    }
  }
  return "";
}

// Target objects that share an SMTP proxy, an X500 / legacyExchangeDN, or the sAMAccountName.
Result<std::vector<Entry>> FindTargetMatches(Organizations& orgs, const Entry& source,
                                             const AttributeProfile& p) {
  std::vector<Filter> any;
  auto proxies = ProxyAddressSet::Parse(source.Get(p.proxy_addresses));
  if (proxies.ok()) {
    for (const auto& px : proxies->items()) {
      if (px.IsSmtp()) {
        any.push_back(Filter::Eq(p.proxy_addresses, "smtp:" + px.address()));
        any.push_back(Filter::Eq(p.mail, px.address()));
      } else if (px.IsX500()) {
        any.push_back(Filter::Eq(p.proxy_addresses, "X500:" + px.address()));
        any.push_back(Filter::Eq(p.legacy_dn, px.address()));
      }
    }
  }
  std::string legacy = source.First(p.legacy_dn);
  if (!legacy.empty()) {
    any.push_back(Filter::Eq(p.proxy_addresses, "X500:" + legacy));
    any.push_back(Filter::Eq(p.legacy_dn, legacy));
  }
  std::string sam = source.First(p.sam_account_name);
  if (!sam.empty()) any.push_back(Filter::Eq(p.sam_account_name, sam));
  if (any.empty()) return std::vector<Entry>{};
  return orgs.target->Search(orgs.target_base, Scope::kSubtree, Filter::Or(std::move(any)));
}

}  // namespace

std::optional<CleanupOption> CleanupSetting(const Config& config, Problems& problems) {
  auto cleanup = ParseCleanupOption(config.cleanup);
  if (cleanup.ok()) return *cleanup;
  problems.push_back(config.ProblemWith("cleanup", cleanup.status().message()));
  return std::nullopt;
}

PlannerParams ValidateParameters(const Config& config, Organizations& orgs, NameRegistry& names,
                                 Problems& problems) {
  PlannerParams params;
  if (auto cleanup = CleanupSetting(config, problems)) params.cleanup = *cleanup;
  params.address_template = config.address_template;
  if (Status s = ValidateAddressTemplate(config.address_template); !s.ok()) {
    problems.push_back(config.ProblemWith("address-template", s.message()));
  }
  params.target_smtp_domain = config.target_smtp_domain;
  bool template_has_domain = config.address_template.find('@') != std::string::npos;
  if (config.target_smtp_domain.empty()) {
    if (!template_has_domain)
      problems.push_back(config.ProblemWith("target-smtp-domain",
                                            "not set (needed for computed target addresses)"));
  } else if (Status s = ValidateDomain(config.target_smtp_domain); !s.ok()) {
    problems.push_back(config.ProblemWith("target-smtp-domain", s.message()));
  } else if (!config.target.domains.empty()) {
    bool accepted = false;
    for (const auto& d : config.target.domains) accepted |= IEquals(d, config.target_smtp_domain);
    if (!accepted) {
      problems.push_back(config.ProblemWith(
          "target-smtp-domain",
          fmt::format("{} is not one of the target's accepted domains ({})",
                      config.target_smtp_domain, Join(config.target.domains, ", "))));
    }
  }
  for (auto [key, list] : {std::pair<std::string, const std::vector<std::string>*>{
                               "source.domains", &config.source.domains},
                           {"target.domains", &config.target.domains}}) {
    for (const auto& d : *list) {
      if (Status s = ValidateDomain(d); !s.ok()) problems.push_back(Param(key, s.message()));
    }
  }
  params.allow_merge = config.allow_merge;
  params.keep_source_primary = config.keep_source_primary;

  if (!orgs.source || !orgs.target) return params;
  LoadTargetNames(orgs, config.profile, names, problems);

  params.nt_account_ou = config.nt_account_ou;
  if (!config.nt_account_ou.empty()) {
    if (!ParseDn(config.nt_account_ou).ok()) {
      problems.push_back(Param(
          "nt-account-ou", fmt::format("'{}' is not a distinguished name", config.nt_account_ou)));
    } else if (!Exists(*orgs.target, config.nt_account_ou)) {
      problems.push_back(config.ProblemWith(
          "nt-account-ou",
          fmt::format("{} does not exist in the target directory", config.nt_account_ou)));
    }
  }
  params.contacts_ou = config.contacts_ou;
  if (!config.contacts_ou.empty()) {
    if (!ParseDn(config.contacts_ou).ok()) {
      problems.push_back(Param(
          "contacts-ou", fmt::format("'{}' is not a distinguished name", config.contacts_ou)));
    } else if (!Exists(*orgs.source, config.contacts_ou)) {
      problems.push_back(config.ProblemWith(
          "contacts-ou",
          fmt::format("{} does not exist in the source directory", config.contacts_ou)));
    } else if (auto contacts = orgs.source->Search(config.contacts_ou, Scope::kOneLevel,
                                                   Filter::Present("objectClass"), {"cn"});
               contacts.ok()) {
      for (const Entry& e : *contacts) names.source_dns.insert(NormalizeDn(e.dn()));
    }
  }
  if (!config.target_database.empty()) {
    const DatabaseConfig* db = config.FindDatabase(config.target_database);
    if (!db) {
      problems.push_back(config.ProblemWith(
          "target-database",
          fmt::format("'{}' is not configured (add [target.databases.{}] with dn = ...)",
                      config.target_database, config.target_database)));
    } else if (db->dn.empty()) {
      problems.push_back(config.ProblemWith("target.databases." + db->name + ".dn",
                                            "not set (the homeMDB value of new mailboxes)"));
    } else {
      params.target_database_dn = db->dn;
      params.target_home_server = db->server;
      // AD refuses a homeMDB that names no object; catch that now rather than mid-run.
      if (DnIsUnder(db->dn, orgs.target_base) && !Exists(*orgs.target, db->dn)) {
        problems.push_back(
            config.ProblemWith("target.databases." + db->name + ".dn",
                               fmt::format("{} does not exist in the target directory", db->dn)));
      }
    }
  }
  params.target_org = config.target.org_name.empty() ? OrgNameFrom(names) : config.target.org_name;
  if (params.target_org.empty()) {
    problems.push_back(config.ProblemWith(
        "target.org-name", "not set, and the target holds no legacyExchangeDN to learn it from"));
  }
  return params;
}

Batch PrepareBatch(const Config& config, Organizations& orgs, const UsersFile& users,
                   Problems& problems, const std::vector<MailboxPlan>& reserved) {
  Batch batch;
  batch.users_file = users.path;
  batch.identity_column = users.identity_column;
  NameRegistry names;
  PlannerParams defaults = ValidateParameters(config, orgs, names, problems);
  for (const MailboxPlan& p : reserved) {
    names.target_dns.insert(NormalizeDn(p.target_dn));
    names.target_legacy_dns.insert(p.target_legacy_dn);
    names.target_smtp_addresses.insert(p.target_primary_smtp);
    for (const auto& op : p.provision) {
      if (op.kind == DirectoryOp::Kind::kAdd) {
        std::string sam = op.AsEntry().First(config.profile.sam_account_name);
        if (!sam.empty()) names.target_sam_names.insert(sam);
      }
    }
    for (const auto& op : p.cleanup_ops) {
      if (op.kind == DirectoryOp::Kind::kAdd) names.source_dns.insert(NormalizeDn(op.dn));
    }
  }
  if (!orgs.source || !orgs.target) return batch;
  const AttributeProfile& p = config.profile;
  std::string column = "column " + users.identity_column;
  std::map<std::string, unsigned long> dn_rows;  // normalized DN -> first row naming it
  std::map<std::string, bool> ou_exists;
  bool cleanup_needs_contacts_ou = false, missing_ou = false, missing_db = false;

  // A mailbox cannot complete before it starts: a start after the completion is a mistake in
  // one of the two times, not a schedule (named where the later of them was set).
  auto inverted = [](int64_t start, int64_t complete) {
    return fmt::format(
        "starts after {} but is to complete after {}, before it starts: correct "
        "one of the two",
        FormatIsoTime(start), FormatIsoTime(complete));
  };
  if (config.start_after && config.complete_after && *config.start_after > *config.complete_after)
    problems.push_back(
        config.ProblemWith("start-after", inverted(*config.start_after, *config.complete_after)));
  for (const UsersFileRow& row : users.rows) {
    auto problem = [&](std::string field, std::string message) {
      problems.push_back({users.path, row.line, std::move(field), std::move(message)});
    };
    if (row.start_after || row.complete_after) {
      auto start = row.start_after ? row.start_after : config.start_after;
      auto complete = row.complete_after ? row.complete_after : config.complete_after;
      if (start && complete && *start > *complete)
        problem(row.start_after ? "column StartAfter" : "column CompleteAfter",
                inverted(*start, *complete));
    }
    auto found =
        ResolveIdentity(*orgs.source, orgs.source_base, users.identity_column, row.identity, p);
    if (!found.ok()) {
      problem(column, found.status().message());
      continue;
    }
    if (found->empty()) {
      std::string reading = IdentityReading(users.identity_column, row.identity);
      problem(column, fmt::format("'{}' matches nothing in the source directory{}", row.identity,
                                  reading.empty() ? "" : " (" + reading + ")"));
      continue;
    }
    if (found->size() > 1) {
      std::vector<std::string> dns;
      for (const Entry& e : *found) dns.push_back(e.dn());
      problem(column, fmt::format("'{}' matches {} objects: {}", row.identity, dns.size(),
                                  Join(dns, "; ")));
      continue;
    }
    Entry source = std::move(found->front());
    Recipient r(source, p);
    if (r.kind() != RecipientKind::kMailbox) {
      problem(column, fmt::format("'{}' is {} {}, not a mailbox", row.identity,
                                  r.kind() == RecipientKind::kMailUser
                                      ? "a mail user"
                                      : "a " + std::string(ToString(r.kind())),
                                  source.dn()));
      continue;
    }
    auto [it, fresh] = dn_rows.emplace(NormalizeDn(source.dn()), row.line);
    if (!fresh) {
      problem(column, fmt::format("'{}' is the same mailbox as line {} ({})", row.identity,
                                  it->second, source.dn()));
      continue;
    }
    if (Utf8Length(r.display_name()) > kMaxDisplayNameLength) {
      problem("displayName",
              fmt::format("{}: display name is {} characters (at most {})", source.dn(),
                          Utf8Length(r.display_name()), kMaxDisplayNameLength));
      continue;
    }
    if (Utf8Length(source.First(p.cn)) > kMaxCnLength) {
      problem("cn", fmt::format("{}: cn is longer than {} characters", source.dn(), kMaxCnLength));
      continue;
    }
    if (auto proxies = r.proxies(); !proxies.ok()) {
      problem("proxyAddresses", fmt::format("{}: {}", source.dn(), proxies.status().message()));
      continue;
    } else if (Status s = proxies->CheckPrimaries(); !s.ok()) {
      problem("proxyAddresses", fmt::format("{}: {}", source.dn(), s.message()));
      continue;
    }

    PlannerParams params = defaults;
    bool row_ok = true;
    if (row.cleanup) params.cleanup = *ParseCleanupOption(*row.cleanup);  // validated when read
    if (row.nt_account_ou) {
      params.nt_account_ou = *row.nt_account_ou;
      auto known = ou_exists.find(NormalizeDn(params.nt_account_ou));
      bool exists = known != ou_exists.end() ? known->second
                                             : (ou_exists[NormalizeDn(params.nt_account_ou)] =
                                                    ParseDn(params.nt_account_ou).ok() &&
                                                    Exists(*orgs.target, params.nt_account_ou));
      if (!exists) {
        problem("column NTAccountOU",
                fmt::format("{} does not exist in the target directory", params.nt_account_ou));
        row_ok = false;
      }
    } else if (params.nt_account_ou.empty()) {
      missing_ou = true;
      row_ok = false;
    }
    if (row.target_database) {
      const DatabaseConfig* db = config.FindDatabase(*row.target_database);
      if (!db || db->dn.empty()) {
        problem("column TargetDatabase",
                fmt::format("'{}' is not a configured target database", *row.target_database));
        row_ok = false;
      } else {
        params.target_database_dn = db->dn;
        params.target_home_server = db->server;
      }
    } else if (params.target_database_dn.empty()) {
      missing_db = true;
      row_ok = false;
    }
    if (params.cleanup == CleanupOption::kCreateSourceContact) {
      cleanup_needs_contacts_ou = true;
      if (params.contacts_ou.empty()) row_ok = false;
    }
    if (!row_ok) continue;

    auto matches = FindTargetMatches(orgs, source, p);
    if (!matches.ok()) {
      problem(column, matches.status().message());
      continue;
    }
    auto plan = PlanMailbox(source, *matches, params, p, names);
    if (!plan.ok()) {
      problem(column, plan.status().message());
      continue;
    }
    batch.mailboxes.push_back(
        {row, std::move(source), std::move(*matches), params, std::move(*plan)});
  }
  if (missing_ou && config.nt_account_ou.empty()) {
    problems.push_back(config.ProblemWith(
        "nt-account-ou",
        "not set (the target OU for new accounts), and not every row names an NTAccountOU"));
  }
  if (missing_db && config.target_database.empty()) {
    problems.push_back(
        config.ProblemWith("target-database", "not set, and not every row names a TargetDatabase"));
  }
  if (cleanup_needs_contacts_ou && config.contacts_ou.empty()) {
    problems.push_back(config.ProblemWith(
        "contacts-ou", "not set, but CreateSourceContact needs the source OU for contacts"));
  }
  return batch;
}

}  // namespace cm
