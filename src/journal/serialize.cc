#include "journal/serialize.h"

#include "core/strings.h"
#include "io/base64.h"

namespace cm {

namespace {

nlohmann::json ValueToJson(const std::string& v) {
  if (IsValidUtf8(v)) return v;
  return nlohmann::json{{"base64", Base64Encode(v)}};
}

Result<std::string> ValueFromJson(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("base64") && j["base64"].is_string()) {
    auto decoded = Base64Decode(j["base64"].get<std::string>());
    if (!decoded.ok()) return decoded.status().Annotate("journal");
    return decoded;
  }
  return Status::InvalidInput("journal: a value is neither text nor base64");
}

nlohmann::json ModsToJson(const std::vector<Modification>& mods) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& m : mods) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& v : m.values) values.push_back(ValueToJson(v));
    arr.push_back({{"op", static_cast<int>(m.op)}, {"attribute", m.attribute}, {"values", values}});
  }
  return arr;
}

Result<std::vector<Modification>> ModsFromJson(const nlohmann::json& arr) {
  std::vector<Modification> out;
  for (const auto& m : arr) {
    Modification mod{static_cast<Modification::Op>(m.at("op").get<int>()),
                     m.at("attribute").get<std::string>(),
                     {}};
    for (const auto& v : m.at("values")) {
      auto value = ValueFromJson(v);
      if (!value.ok()) return value.status();
      mod.values.push_back(std::move(*value));
    }
    out.push_back(std::move(mod));
  }
  return out;
}

nlohmann::json OpsToJson(const std::vector<DirectoryOp>& ops) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& op : ops) {
    arr.push_back({{"side", static_cast<int>(op.side)},
                   {"kind", static_cast<int>(op.kind)},
                   {"dn", op.dn},
                   {"mods", ModsToJson(op.mods)},
                   {"new_rdn", op.new_rdn},
                   {"new_superior", op.new_superior},
                   {"reason", op.reason}});
  }
  return arr;
}

Result<std::vector<DirectoryOp>> OpsFromJson(const nlohmann::json& arr) {
  std::vector<DirectoryOp> out;
  for (const auto& o : arr) {
    auto mods = ModsFromJson(o.at("mods"));
    if (!mods.ok()) return mods.status();
    out.push_back({static_cast<Side>(o.at("side").get<int>()),
                   static_cast<DirectoryOp::Kind>(o.at("kind").get<int>()),
                   o.at("dn").get<std::string>(), std::move(*mods),
                   o.at("new_rdn").get<std::string>(), o.at("new_superior").get<std::string>(),
                   o.at("reason").get<std::string>()});
  }
  return out;
}

}  // namespace

nlohmann::json EntryToJson(const Entry& entry) {
  nlohmann::json attrs = nlohmann::json::array();
  for (const auto& [name, values] : entry.attributes()) {
    nlohmann::json vs = nlohmann::json::array();
    for (const auto& v : values) vs.push_back(ValueToJson(v));
    attrs.push_back({{"name", name}, {"values", vs}});
  }
  return {{"dn", entry.dn()}, {"attributes", attrs}};
}

Result<Entry> EntryFromJson(const nlohmann::json& j) {
  try {
    Entry e(j.at("dn").get<std::string>());
    for (const auto& a : j.at("attributes")) {
      Values values;
      for (const auto& v : a.at("values")) {
        auto value = ValueFromJson(v);
        if (!value.ok()) return value.status();
        values.push_back(std::move(*value));
      }
      e.Set(a.at("name").get<std::string>(), std::move(values));
    }
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return Status::InvalidInput(std::string("journal: malformed object: ") + ex.what());
  }
}

nlohmann::json PlanToJsonValue(const MailboxPlan& p) {
  return {{"source_dn", p.source_dn},
          {"alias", p.alias},
          {"target_action", static_cast<int>(p.target_action)},
          {"target_dn", p.target_dn},
          {"target_primary_smtp", p.target_primary_smtp},
          {"target_legacy_dn", p.target_legacy_dn},
          {"target_database_dn", p.target_database_dn},
          {"cleanup", static_cast<int>(p.cleanup)},
          {"provision", OpsToJson(p.provision)},
          {"cleanup_ops", OpsToJson(p.cleanup_ops)}};
}

Result<MailboxPlan> PlanFromJson(const nlohmann::json& j) {
  try {
    MailboxPlan p;
    p.source_dn = j.at("source_dn").get<std::string>();
    p.alias = j.at("alias").get<std::string>();
    p.target_action = static_cast<TargetAction>(j.at("target_action").get<int>());
    p.target_dn = j.at("target_dn").get<std::string>();
    p.target_primary_smtp = j.at("target_primary_smtp").get<std::string>();
    p.target_legacy_dn = j.at("target_legacy_dn").get<std::string>();
    p.target_database_dn = j.at("target_database_dn").get<std::string>();
    p.cleanup = static_cast<CleanupOption>(j.at("cleanup").get<int>());
    auto provision = OpsFromJson(j.at("provision"));
    if (!provision.ok()) return provision.status();
    p.provision = std::move(*provision);
    auto cleanup = OpsFromJson(j.at("cleanup_ops"));
    if (!cleanup.ok()) return cleanup.status();
    p.cleanup_ops = std::move(*cleanup);
    return p;
  } catch (const nlohmann::json::exception& ex) {
    return Status::InvalidInput(std::string("journal: malformed plan: ") + ex.what());
  }
}

std::string SnapshotToJson(const Snapshot& s) {
  nlohmann::json folders = nlohmann::json::array();
  for (const auto& f : s.folders)
    folders.push_back({{"name", f.name}, {"messages", f.messages}, {"bytes", f.bytes}});
  nlohmann::json replaced = nlohmann::json::array();
  for (const auto& e : s.replaced_target_objects) replaced.push_back(EntryToJson(e));
  return nlohmann::json{{"source", EntryToJson(s.source)},
                        {"store", s.store},
                        {"folders", folders},
                        {"replaced_target_objects", replaced}}
      .dump();
}

Result<Snapshot> SnapshotFromJson(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    Snapshot s;
    auto source = EntryFromJson(j.at("source"));
    if (!source.ok()) return source.status();
    s.source = std::move(*source);
    s.store = j.at("store").get<std::string>();
    for (const auto& f : j.at("folders")) {
      s.folders.push_back({f.at("name").get<std::string>(), f.at("messages").get<uint64_t>(),
                           f.at("bytes").get<uint64_t>()});
    }
    for (const auto& r : j.at("replaced_target_objects")) {
      auto e = EntryFromJson(r);
      if (!e.ok()) return e.status();
      s.replaced_target_objects.push_back(std::move(*e));
    }
    return s;
  } catch (const nlohmann::json::exception& ex) {
    return Status::InvalidInput(std::string("journal: malformed snapshot: ") + ex.what());
  }
}

}  // namespace cm
