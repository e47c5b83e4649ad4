#include "core/planner.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/address_template.h"
#include "core/dn.h"
#include "core/legacy_dn.h"
#include "core/smtp.h"
#include "core/strings.h"

namespace cm {

Result<CleanupOption> ParseCleanupOption(std::string_view text) {
  for (CleanupOption o : kAllCleanupOptions) {
    if (IEquals(text, ToString(o))) return o;
  }
  return Status::InvalidInput(fmt::format(
      "unknown cleanup option '{}' (one of None, DeleteSourceMailbox, DeleteSourceNTAccount, "
      "CreateSourceContact, MailEnableSourceAccount)",
      text));
}

std::string_view ToString(CleanupOption option) {
  switch (option) {
    case CleanupOption::kNone:
      return "None";
    case CleanupOption::kDeleteSourceMailbox:
      return "DeleteSourceMailbox";
    case CleanupOption::kDeleteSourceNTAccount:
      return "DeleteSourceNTAccount";
    case CleanupOption::kCreateSourceContact:
      return "CreateSourceContact";
    case CleanupOption::kMailEnableSourceAccount:
      return "MailEnableSourceAccount";
  }
  return "None";
}

std::string_view ToString(Side side) { return side == Side::kSource ? "source" : "target"; }

std::string_view ToString(DirectoryOp::Kind kind) {
  switch (kind) {
    case DirectoryOp::Kind::kAdd:
      return "add";
    case DirectoryOp::Kind::kModify:
      return "modify";
    case DirectoryOp::Kind::kDelete:
      return "delete";
    case DirectoryOp::Kind::kRename:
      return "rename";
  }
  return "?";
}

std::string_view ToString(TargetAction action) {
  switch (action) {
    case TargetAction::kCreate:
      return "create";
    case TargetAction::kReplaceContact:
      return "replace-contact";
    case TargetAction::kMergeMailUser:
      return "merge-mail-user";
  }
  return "?";
}

Entry DirectoryOp::AsEntry() const {
  Entry e(dn);
  for (const auto& m : mods) {
    for (const auto& v : m.values) e.Add(m.attribute, v);
  }
  return e;
}

ProxyAddressSet ForwardingProxies(const ProxyAddressSet& source_proxies,
                                  std::string_view source_legacy_dn,
                                  std::string_view target_primary,
                                  std::string_view target_legacy_dn, bool keep_source_primary) {
  ProxyAddressSet set;
  set.Add(ProxyAddress::Smtp(target_primary, true));
  for (const auto& p : source_proxies.OfType("SMTP")) set.Add(p.WithPrimary(false));
  if (!target_legacy_dn.empty()) set.Add(ProxyAddress::X500(target_legacy_dn));
  if (!source_legacy_dn.empty()) set.Add(ProxyAddress::X500(source_legacy_dn));
  for (const auto& p : source_proxies.items()) {
    if (p.IsX500() || p.IsX400()) set.Add(p);
  }
  if (keep_source_primary) {
    if (const ProxyAddress* old_primary = source_proxies.Primary("SMTP"))
      set.MakePrimary(*old_primary);
  }
  return set;
}

namespace {

using Op = Modification::Op;

// Builder for an add operation's ordered attribute list; empty values are skipped.
class AddBuilder {
 public:
  void Put(std::string_view attr, const Values& values) {
    Values kept;
    for (const auto& v : values) {
      if (!v.empty()) kept.push_back(v);
    }
    if (!kept.empty()) mods_.push_back({Op::kAdd, std::string(attr), std::move(kept)});
  }
  void Put(std::string_view attr, std::string value) { Put(attr, Values{std::move(value)}); }
  std::vector<Modification> Take() { return std::move(mods_); }

 private:
  std::vector<Modification> mods_;
};

// The person's address-book identity, the same on the new user and on a source contact.
void PutPerson(AddBuilder& add, const std::string& cn, const Recipient& src,
               const AttributeProfile& profile) {
  const Entry& source = src.entry();
  add.Put(profile.cn, cn);
  add.Put(profile.surname, source.Get(profile.surname));
  add.Put(profile.given_name, source.Get(profile.given_name));
  add.Put(profile.initials, source.Get(profile.initials));
  add.Put(profile.display_name, src.display_name());
  for (const auto& attr : profile.gal_attributes) add.Put(attr, source.Get(attr));
}

// Deletes of every listed attribute the entry holds, except `keep`.
void DeleteMailboxAttributes(const Entry& source, const AttributeProfile& profile,
                             const std::set<std::string, ILess>& keep,
                             std::vector<Modification>& mods) {
  for (const auto& attr : profile.mailbox_attributes) {
    if (keep.count(attr) || !source.Has(attr)) continue;
    mods.push_back({Op::kDelete, attr, {}});
  }
}

// What `source` and the target object `match` have in common (SPEC §5's matching): every SMTP
// address, X500 / legacyExchangeDN and the sAMAccountName, as "smtp:a@b" / "X500:/o=..." /
// "sAMAccountName 'x'", so a collision says which value collides, not only with what.
std::vector<std::string> SharedIdentifiers(const Entry& source, const Entry& match,
                                           const AttributeProfile& profile) {
  std::set<std::string, ILess> theirs;  // "smtp:addr" and "x500:dn" forms
  if (auto mp = ProxyAddressSet::Parse(match.Get(profile.proxy_addresses)); mp.ok()) {
    for (const auto& p : mp->items()) {
      if (p.IsSmtp()) theirs.insert("smtp:" + p.address());
      if (p.IsX500()) theirs.insert("X500:" + p.address());
    }
  }
  for (const auto& m : match.Get(profile.mail)) theirs.insert("smtp:" + m);
  for (const auto& l : match.Get(profile.legacy_dn)) theirs.insert("X500:" + l);
  std::vector<std::string> shared;
  auto check = [&](const std::string& value) {
    if (theirs.count(value) && std::find(shared.begin(), shared.end(), value) == shared.end())
      shared.push_back(value);
  };
  if (auto sp = ProxyAddressSet::Parse(source.Get(profile.proxy_addresses)); sp.ok()) {
    for (const auto& p : sp->items()) {
      if (p.IsSmtp()) check("smtp:" + p.address());
      if (p.IsX500()) check("X500:" + p.address());
    }
  }
  for (const auto& m : source.Get(profile.mail)) check("smtp:" + m);
  for (const auto& l : source.Get(profile.legacy_dn)) check("X500:" + l);
  std::string sam = source.First(profile.sam_account_name);
  if (!sam.empty() && IEquals(sam, match.First(profile.sam_account_name)))
    shared.push_back(fmt::format("{} '{}'", profile.sam_account_name, sam));
  return shared;
}

std::string SharedText(const Entry& source, const Entry& match, const AttributeProfile& profile) {
  auto shared = SharedIdentifiers(source, match, profile);
  return shared.empty() ? "an address or account name" : Join(shared, ", ");
}

// What the target mailbox is (SPEC §5): shared, room and equipment mailboxes keep their type, with
// the display type Exchange gives it and Exchange's mark of a disabled account; every other
// mailbox (user, linked, legacy) becomes a user mailbox (a linked mailbox's master account is in
// a forest the target does not trust).
struct TargetType {
  uint64_t details = recipient_type::kUserMailbox;
  uint64_t display = recipient_type::kDisplayMailboxUser;
  bool disabled_account_mailbox = false;  // msExchUserAccountControl 2 as Exchange writes it
  bool resource = false;                  // room or equipment: booking attributes go along
};

TargetType TargetTypeOf(const Recipient& src) {
  namespace rt = recipient_type;
  switch (src.type_details().value_or(rt::kUserMailbox)) {
    case rt::kSharedMailbox:
      return {rt::kSharedMailbox, rt::kDisplaySharedMailbox, true, false};
    case rt::kRoomMailbox:
      return {rt::kRoomMailbox, rt::kDisplayRoomMailbox, true, true};
    case rt::kEquipmentMailbox:
      return {rt::kEquipmentMailbox, rt::kDisplayEquipmentMailbox, true, true};
    default:
      return {};
  }
}

// Computes the target primary SMTP address, unique in the target (a digit suffix on the local
// part on clash, as Exchange address policies do).
Result<std::string> TargetPrimary(const Recipient& src, std::string_view alias,
                                  const PlannerParams& params, const AttributeProfile& profile,
                                  const NameRegistry& names) {
  TemplateFields fields{std::string(alias), src.entry().First(profile.given_name),
                        src.entry().First(profile.surname), src.display_name(),
                        src.entry().First(profile.initials)};
  auto address = ExpandAddressTemplate(params.address_template, fields, params.target_smtp_domain);
  if (!address.ok()) return address.status();
  size_t at = address->rfind('@');
  std::string local = address->substr(0, at), domain = address->substr(at);
  std::string unique_local = UniqueName(local, 64, [&](std::string_view l) {
    return names.target_smtp_addresses.count(std::string(l) + domain) > 0;
  });
  return unique_local + domain;
}

}  // namespace

Result<MailboxPlan> PlanMailbox(const Entry& source, const std::vector<Entry>& target_matches,
                                const PlannerParams& params, const AttributeProfile& profile,
                                NameRegistry& names) {
  Recipient src(source, profile);
  if (src.kind() != RecipientKind::kMailbox) {
    return Status::InvalidInput(
        fmt::format("{} is not a mailbox (it is a {})", source.dn(), ToString(src.kind())));
  }
  auto source_proxies = src.proxies();
  if (!source_proxies.ok()) return source_proxies.status().Annotate(source.dn());
  // Every old SMTP address must still route after the move, and the routing model (like an MTA
  // without SMTPUTF8, and Exchange) has no route for one that is not an RFC 5321 address: the
  // routing proof would fail only after the cleanup. Stopped here, before anything is written.
  for (const auto& p : source_proxies->items()) {
    if (!p.IsSmtp()) continue;
    if (Status s = ValidateSmtpAddress(p.address()); !s.ok()) {
      return Status::InvalidInput(fmt::format(
          "{}: {} value '{}' is not an SMTP address ({}); after the move it could not be "
          "routed: correct or remove it in the source, then plan again",
          source.dn(), profile.proxy_addresses, p.ToString(), s.message()));
    }
  }

  MailboxPlan plan;
  plan.source_dn = source.dn();
  plan.cleanup = params.cleanup;
  plan.target_database_dn = params.target_database_dn;
  plan.alias = src.alias();
  if (plan.alias.empty()) plan.alias = AliasCharactersOf(src.sam_account_name());
  if (plan.alias.empty()) plan.alias = AliasCharactersOf(src.display_name());
  CM_RETURN_IF_ERROR(ValidateAlias(plan.alias).Annotate(source.dn()));

  // Which existing target object, if any, becomes this mailbox (SPEC §5).
  const Entry* match = nullptr;
  for (const Entry& m : target_matches) {
    if (match && DnEquals(match->dn(), m.dn())) continue;
    if (match) {
      std::vector<std::string> dns;
      for (const Entry& e : target_matches)
        dns.push_back(fmt::format("{} ({})", e.dn(), SharedText(source, e, profile)));
      return Status::Constraint(
          fmt::format("{} matches several target objects: {}", source.dn(), Join(dns, "; ")));
    }
    match = &m;
  }
  if (match) {
    RecipientKind kind = Recipient(*match, profile).kind();
    if (kind == RecipientKind::kMailContact) {
      plan.target_action = TargetAction::kReplaceContact;
    } else if (kind == RecipientKind::kMailUser && params.allow_merge) {
      plan.target_action = TargetAction::kMergeMailUser;
    } else if (kind == RecipientKind::kMailUser) {
      return Status::Constraint(
          fmt::format("{}: {} already belong to the target mail user {} (set "
                      "allow-merge to reuse it)",
                      source.dn(), SharedText(source, *match, profile), match->dn()));
    } else {
      return Status::Constraint(fmt::format("{}: {} already belongs to target {} {}", source.dn(),
                                            SharedText(source, *match, profile), ToString(kind),
                                            match->dn()));
    }
  }

  std::string source_legacy_dn = src.legacy_dn();
  ProxyAddressSet target_proxies;

  if (plan.target_action == TargetAction::kMergeMailUser) {
    Recipient existing(*match, profile);
    auto existing_proxies = existing.proxies();
    if (!existing_proxies.ok()) return existing_proxies.status().Annotate(match->dn());
    plan.target_dn = match->dn();
    plan.target_primary_smtp = existing.primary_smtp();
    if (plan.target_primary_smtp.empty()) {
      auto primary = TargetPrimary(src, plan.alias, params, profile, names);
      if (!primary.ok()) return primary.status().Annotate(source.dn());
      plan.target_primary_smtp = *primary;
    }
    plan.target_legacy_dn = existing.legacy_dn();
    target_proxies = *existing_proxies;
    target_proxies.MakePrimary(ProxyAddress::Smtp(plan.target_primary_smtp, true));
  } else {
    auto primary = TargetPrimary(src, plan.alias, params, profile, names);
    if (!primary.ok()) return primary.status().Annotate(source.dn());
    plan.target_primary_smtp = *primary;
    target_proxies.Add(ProxyAddress::Smtp(plan.target_primary_smtp, true));
  }
  if (plan.target_legacy_dn.empty()) {
    std::string base = BuildLegacyExchangeDn(params.target_org, plan.alias);
    plan.target_legacy_dn = UniqueName(base, 1024, [&](std::string_view v) {
      return names.target_legacy_dns.count(std::string(v)) > 0;
    });
  }
  for (const auto& p : source_proxies->OfType("SMTP")) target_proxies.Add(p.WithPrimary(false));
  if (!source_legacy_dn.empty()) target_proxies.Add(ProxyAddress::X500(source_legacy_dn));
  for (const auto& p : source_proxies->items()) {
    if (p.IsX500() || p.IsX400()) target_proxies.Add(p);
  }
  if (plan.target_action == TargetAction::kReplaceContact) {
    // The GAL-sync contact's addresses move to the mailbox, so mail sent to it still arrives.
    Recipient contact(*match, profile);
    if (auto cp = contact.proxies(); cp.ok()) {
      for (const auto& p : cp->items()) target_proxies.Add(p.WithPrimary(false));
    }
    if (!contact.legacy_dn().empty()) target_proxies.Add(ProxyAddress::X500(contact.legacy_dn()));
  }

  // Target provisioning.
  const TargetType type = TargetTypeOf(src);
  if (plan.target_action == TargetAction::kMergeMailUser) {
    std::vector<Modification> mods;
    if (match->Has(profile.target_address))
      mods.push_back({Op::kDelete, profile.target_address, {}});
    mods.push_back({Op::kReplace, profile.proxy_addresses, target_proxies.ToStrings()});
    mods.push_back({Op::kReplace, profile.mail, {plan.target_primary_smtp}});
    if (!match->Has(profile.mail_nickname))
      mods.push_back({Op::kReplace, profile.mail_nickname, {plan.alias}});
    if (!match->Has(profile.legacy_dn))
      mods.push_back({Op::kReplace, profile.legacy_dn, {plan.target_legacy_dn}});
    mods.push_back({Op::kReplace, profile.home_mdb, {params.target_database_dn}});
    if (!params.target_home_server.empty()) {
      mods.push_back({Op::kReplace, profile.home_server, {params.target_home_server}});
    }
    if (source.Has(profile.mailbox_guid)) {
      mods.push_back({Op::kReplace, profile.mailbox_guid, {source.First(profile.mailbox_guid)}});
    }
    mods.push_back({Op::kReplace, profile.type_details, {std::to_string(type.details)}});
    mods.push_back({Op::kReplace, profile.display_type, {std::to_string(type.display)}});
    if (type.disabled_account_mailbox)
      mods.push_back({Op::kReplace, profile.exchange_account_control, {"2"}});
    if (type.resource) {
      for (const auto& attr : profile.resource_attributes) {
        if (source.Has(attr)) mods.push_back({Op::kReplace, attr, source.Get(attr)});
      }
    }
    plan.provision.push_back({Side::kTarget, DirectoryOp::Kind::kModify, plan.target_dn,
                              std::move(mods), "", "",
                              "allow-merge: the existing mail user becomes the mailbox"});
  } else {
    if (plan.target_action == TargetAction::kReplaceContact) {
      plan.provision.push_back(
          {Side::kTarget,
           DirectoryOp::Kind::kDelete,
           match->dn(),
           {},
           "",
           "",
           "GAL contact for this person is replaced by the mailbox; its attributes are journaled"});
      names.target_dns.erase(NormalizeDn(match->dn()));
    }
    std::string cn_base = source.First(profile.cn);
    if (cn_base.empty()) cn_base = src.display_name();
    std::string cn = UniqueName(cn_base, kMaxCnLength, [&](std::string_view c) {
      return names.target_dns.count(NormalizeDn(MakeDn("CN", c, params.nt_account_ou))) > 0;
    });
    plan.target_dn = MakeDn("CN", cn, params.nt_account_ou);
    std::string sam_base = src.sam_account_name();
    if (sam_base.empty()) sam_base = plan.alias;
    std::string sam = UniqueName(sam_base, kMaxSamAccountNameLength, [&](std::string_view s) {
      return names.target_sam_names.count(std::string(s)) > 0;
    });

    AddBuilder add;
    add.Put("objectClass", profile.user_classes);
    PutPerson(add, cn, src, profile);
    add.Put(profile.sam_account_name, sam);
    // Disabled: passwords are not migrated, an administrator enables the account after the move.
    add.Put(profile.user_account_control, "514");
    add.Put(profile.mail_nickname, plan.alias);
    add.Put(profile.mail, plan.target_primary_smtp);
    add.Put(profile.proxy_addresses, target_proxies.ToStrings());
    add.Put(profile.legacy_dn, plan.target_legacy_dn);
    add.Put(profile.home_mdb, params.target_database_dn);
    add.Put(profile.home_server, params.target_home_server);
    add.Put(profile.mailbox_guid, source.Get(profile.mailbox_guid));
    add.Put(profile.type_details, std::to_string(type.details));
    add.Put(profile.display_type, std::to_string(type.display));
    if (type.disabled_account_mailbox) add.Put(profile.exchange_account_control, "2");
    if (type.resource) {
      for (const auto& attr : profile.resource_attributes) add.Put(attr, source.Get(attr));
    }
    plan.provision.push_back({Side::kTarget, DirectoryOp::Kind::kAdd, plan.target_dn, add.Take(),
                              "", "", "new mailbox user in the target"});
    names.target_dns.insert(NormalizeDn(plan.target_dn));
    names.target_sam_names.insert(sam);
  }
  names.target_legacy_dns.insert(plan.target_legacy_dn);
  for (const auto& p : target_proxies.OfType("SMTP"))
    names.target_smtp_addresses.insert(p.address());

  // Source cleanup (SPEC §6).
  ProxyAddressSet forwarding =
      ForwardingProxies(*source_proxies, source_legacy_dn, plan.target_primary_smtp,
                        plan.target_legacy_dn, params.keep_source_primary);
  std::string forwarding_mail = forwarding.Primary("SMTP")->address();
  std::string target_address = "SMTP:" + plan.target_primary_smtp;
  switch (params.cleanup) {
    case CleanupOption::kNone:
      break;
    case CleanupOption::kDeleteSourceMailbox: {
      std::vector<Modification> mods;
      DeleteMailboxAttributes(source, profile, {}, mods);
      plan.cleanup_ops.push_back({Side::kSource, DirectoryOp::Kind::kModify, source.dn(),
                                  std::move(mods), "", "",
                                  "mailbox attributes removed; the account stays as a plain user"});
      break;
    }
    case CleanupOption::kDeleteSourceNTAccount:
      plan.cleanup_ops.push_back({Side::kSource,
                                  DirectoryOp::Kind::kDelete,
                                  source.dn(),
                                  {},
                                  "",
                                  "",
                                  "source account deleted (snapshot kept in the journal)"});
      names.source_dns.erase(NormalizeDn(source.dn()));
      break;
    case CleanupOption::kCreateSourceContact: {
      plan.cleanup_ops.push_back({Side::kSource,
                                  DirectoryOp::Kind::kDelete,
                                  source.dn(),
                                  {},
                                  "",
                                  "",
                                  "source user deleted; its addresses move to the contact"});
      names.source_dns.erase(NormalizeDn(source.dn()));
      std::string cn = UniqueName(src.display_name(), kMaxCnLength, [&](std::string_view c) {
        return names.source_dns.count(NormalizeDn(MakeDn("CN", c, params.contacts_ou))) > 0;
      });
      std::string contact_dn = MakeDn("CN", cn, params.contacts_ou);
      AddBuilder add;
      add.Put("objectClass", profile.contact_classes);
      PutPerson(add, cn, src, profile);
      add.Put(profile.mail_nickname, plan.alias);
      add.Put(profile.mail, forwarding_mail);
      add.Put(profile.target_address, target_address);
      add.Put(profile.proxy_addresses, forwarding.ToStrings());
      add.Put(profile.legacy_dn, source_legacy_dn);
      add.Put(profile.type_details, std::to_string(recipient_type::kMailContact));
      add.Put(profile.display_type, std::to_string(recipient_type::kDisplayRemoteMailUser));
      plan.cleanup_ops.push_back({Side::kSource, DirectoryOp::Kind::kAdd, contact_dn, add.Take(),
                                  "", "", "mail contact forwarding to the new mailbox"});
      names.source_dns.insert(NormalizeDn(contact_dn));
      break;
    }
    case CleanupOption::kMailEnableSourceAccount: {
      std::set<std::string, ILess> replaced = {profile.mail_nickname,   profile.legacy_dn,
                                               profile.proxy_addresses, profile.mail,
                                               profile.type_details,    profile.display_type};
      std::vector<Modification> mods;
      DeleteMailboxAttributes(source, profile, replaced, mods);
      if (!source.Has(profile.mail_nickname))
        mods.push_back({Op::kReplace, profile.mail_nickname, {plan.alias}});
      mods.push_back({Op::kReplace, profile.mail, {forwarding_mail}});
      mods.push_back({Op::kReplace, profile.proxy_addresses, forwarding.ToStrings()});
      mods.push_back({Op::kReplace, profile.target_address, {target_address}});
      mods.push_back(
          {Op::kReplace, profile.type_details, {std::to_string(recipient_type::kMailUser)}});
      mods.push_back({Op::kReplace,
                      profile.display_type,
                      {std::to_string(recipient_type::kDisplayRemoteMailUser)}});
      plan.cleanup_ops.push_back(
          {Side::kSource, DirectoryOp::Kind::kModify, source.dn(), std::move(mods), "", "",
           "mailbox attributes removed; the user forwards to the new mailbox"});
      break;
    }
  }
  return plan;
}

}  // namespace cm
