#include "app/organizations.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
  bool unusable[2] = {false, false};
  for (int i = 0; i < 2; ++i) {
    options[i].read_only = read_only;
    options[i].bind_identity = cfgs[i]->bind;
    options[i].connection = cfgs[i]->connection;
    if (const std::string& ca = cfgs[i]->connection.ca_file;
        !ca.empty() && access(ca.c_str(), R_OK)) {
      unusable[i] = true;  // connecting would only fail the TLS handshake, less clearly
      problems.push_back(
          config.ProblemWith(std::string(names[i]) + ".ca-file",
                             fmt::format("cannot read {}: {}", ca, strerror(errno))));
    }
    if (!cfgs[i]->credential.empty()) {
      std::string key = std::string(names[i]) + ".credential";
      auto secret = LoadSecret(cfgs[i]->credential, key);
      if (!secret.ok()) {
        // The loader names the setting itself; the problem names it once. Nothing is tried
        // without the secret: a bind with an empty one would only add a misleading error.
        std::string message = secret.status().message(), prefix = key + ": ";
        if (message.starts_with(prefix)) message.erase(0, prefix.size());
        problems.push_back(config.ProblemWith(key, message));
        unusable[i] = true;
      } else {
        options[i].secret = secret->text;
      }
    }
  }
  if (missing) return Status::InvalidInput("directory URLs missing");
  std::unique_ptr<Directory>* slots[2] = {&orgs.source, &orgs.target};
  std::string* bases[2] = {&orgs.source_base, &orgs.target_base};
  for (int i = 0; i < 2; ++i) {
    if (unusable[i]) continue;
    // Reads go to the GC, writes to the DC (one handle when they are the same URL); each is
    // opened on its own so a failure names its setting.
    std::unique_ptr<Directory> opened[2];
    bool same = cfgs[i]->dc.empty() || cfgs[i]->dc == cfgs[i]->gc;
    Status failed;
    for (int k = 0; k < (same ? 1 : 2) && failed.ok(); ++k) {
      std::string key = std::string(names[i]) + (k == 0 ? ".gc" : ".dc");
      auto one = OpenDirectory(k == 0 ? cfgs[i]->gc : cfgs[i]->dc, options[i]);
      if (!one.ok()) {
        if (one.status().code() == Status::Code::kUnavailable) return one.status().Annotate(key);
        problems.push_back(config.ProblemWith(key, one.status().message()));
        failed = one.status();
      } else {
        opened[k] = std::move(*one);
      }
    }
    if (!failed.ok()) continue;
    auto dir = same ? std::move(opened[0])
                    : SplitReadsAndWrites(std::move(opened[0]), std::move(opened[1]));
    *slots[i] = std::move(dir);
    *bases[i] = cfgs[i]->base.empty() ? (*slots[i])->base_dn() : cfgs[i]->base;
    if (!cfgs[i]->base.empty() && !(*slots[i])->Read(cfgs[i]->base).ok()) {
      problems.push_back(config.ProblemWith(std::string(names[i]) + ".base",
                                            fmt::format("{} does not exist", cfgs[i]->base)));
    }
  }
  return orgs;
}

}  // namespace cm
