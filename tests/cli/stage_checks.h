// What the staged-move tests read back, without crossmove's code for the directory: the source
// LDIF through the tests' own reader, and the lifecycle as `status --json` reports it.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/org.h"

namespace cm::testing {

// The source directory as tests/cli/ldif_entries.py prints it (one line per value).
inline std::string SourceEntries(const Org& org) {
  auto r = RunProgram(
      {"python3", RepoFile("tests/cli/ldif_entries.py"), (org.dir() / "source.ldif").string()},
      org.dir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

inline nlohmann::json StatusJson(const Org& org) {
  auto r = org.Run({"status", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

}  // namespace cm::testing
