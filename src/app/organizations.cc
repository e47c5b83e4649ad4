#include "app/organizations.h"

#include <fmt/format.h>

#include "core/dn.h"
#include "input/credential.h"

namespace cm {

Result<Organizations> OpenOrganizations(const Config& config, bool read_only, Problems& problems) {
  Organizations orgs;
  bool missing = false;
  for (auto [name, org] : {std::pair<std::string, const OrgConfig*>{"source", &config.source},
                           {"target", &config.target}}) {
    if (org->gc.empty()) {
      problems.push_back(
          {"", 0, name + ".gc",
           fmt::format("not set (the {} directory URL, e.g. ldif:{}.ldif)", name, name)});
      missing = true;
    }
  }
  DirectoryOptions options[2];
  const OrgConfig* cfgs[2] = {&config.source, &config.target};
  const char* names[2] = {"source", "target"};
  for (int i = 0; i < 2; ++i) {
    options[i].read_only = read_only;
    options[i].bind_identity = cfgs[i]->bind;
    options[i].connection = cfgs[i]->connection;
    if (!cfgs[i]->credential.empty()) {
      std::string key = std::string(names[i]) + ".credential";
      auto secret = LoadSecret(cfgs[i]->credential, key);
      if (!secret.ok()) {
        problems.push_back({"", 0, key, secret.status().message()});
      } else {
        options[i].secret = secret->text;
      }
    }
  }
  if (missing) return Status::InvalidInput("directory URLs missing");
  std::unique_ptr<Directory>* slots[2] = {&orgs.source, &orgs.target};
  std::string* bases[2] = {&orgs.source_base, &orgs.target_base};
  for (int i = 0; i < 2; ++i) {
    // Reads go to the GC, writes to the DC (one handle when they are the same URL).
    auto dir = OpenDirectoryPair(cfgs[i]->gc, cfgs[i]->dc, options[i]);
    if (!dir.ok()) {
      // Name the setting whose server failed.
      std::string key =
          std::string(names[i]) + (dir.status().message().find(cfgs[i]->gc) != std::string::npos ||
                                           cfgs[i]->dc == cfgs[i]->gc
                                       ? ".gc"
                                       : ".dc");
      if (dir.status().code() == Status::Code::kUnavailable) return dir.status().Annotate(key);
      problems.push_back({"", 0, key, dir.status().message()});
      continue;
    }
    *slots[i] = std::move(*dir);
    *bases[i] = cfgs[i]->base.empty() ? (*slots[i])->base_dn() : cfgs[i]->base;
    if (!cfgs[i]->base.empty() && !(*slots[i])->Read(cfgs[i]->base).ok()) {
      problems.push_back({"", 0, std::string(names[i]) + ".base",
                          fmt::format("{} does not exist", cfgs[i]->base)});
    }
  }
  return orgs;
}

}  // namespace cm
